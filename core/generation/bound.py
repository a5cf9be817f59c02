"""What bounds a model's decode: each new token reads every weight once, so a decode step can go no faster than
the weights' bytes over the machine's memory bandwidth. A step near that bound is memory-bound (fewer weight
bytes — INT8, INT4 — buy speed); a step far from it is bound by per-operator overhead (weight compression buys
little; a fused engine or a compiler does). The bandwidth is measured once per environment fingerprint and kept
beside the GEMM peaks (`core.bench.roofline`)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from core.bench.roofline import measured_once

MEMORY_BOUND_SHARE = 50.0   # % of the machine's bandwidth from which a decode step counts as memory-bound
STREAM_MB, SECONDS = 256, 0.25


def measure_bandwidth(megabytes: int = STREAM_MB, seconds: float = SECONDS) -> float:
    """GB/s at which all cores read a buffer far larger than the caches (a sum over float32, as a decode step
    streams its weights)."""
    import torch

    buffer = torch.ones(megabytes * 2**20 // 4)
    buffer.sum()
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        buffer.sum()
        calls += 1
    return buffer.numel() * 4 * calls / (time.perf_counter() - start) / 1e9


def bandwidth(folder: Path, fingerprint: str) -> float:
    """This machine's read bandwidth for `fingerprint`, GB/s, measured once and kept in `folder`."""
    return measured_once(folder / f"bandwidth-{fingerprint}.json", lambda: {"gbs": measure_bandwidth()})["gbs"]


@dataclass(frozen=True)
class DecodeBound:
    """A decode step's weight traffic against the machine's bandwidth."""

    weights_mb: float
    step_ms: float
    achieved_gbs: float
    machine_gbs: float

    @property
    def share_pct(self) -> float:
        return 100.0 * self.achieved_gbs / self.machine_gbs

    @property
    def memory_bound(self) -> bool:
        return self.share_pct >= MEMORY_BOUND_SHARE

    def words(self) -> str:
        """What bounds the step, with its figures, and what that means for weight compression."""
        figures = (f"each token reads {self.weights_mb:,.0f} MB of weights in {self.step_ms:.2f} ms: "
                   f"{self.achieved_gbs:.1f} GB/s, {self.share_pct:.0f}% of this machine's {self.machine_gbs:.1f} GB/s")
        if self.memory_bound:
            return f"{figures}; decode is memory-bound, so fewer weight bytes (INT8, INT4) should buy speed"
        return (f"{figures}; decode is bound by per-operator overhead, not memory, so weight compression buys "
                "little — a fused engine (ONNX Runtime, OpenVINO) or torch.compile does")


def decode_bound(weight_bytes: float, step_ms: float, machine_gbs: float) -> DecodeBound:
    """The bound of a decode step of `step_ms` (the inter-token p50) over `weight_bytes` of weights."""
    if step_ms <= 0 or machine_gbs <= 0:
        raise ValueError("a decode step and a bandwidth must be positive")
    return DecodeBound(weight_bytes / 1e6, step_ms, weight_bytes / (step_ms / 1e3) / 1e9, machine_gbs)
