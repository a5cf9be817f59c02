"""How close a run comes to what this machine can do: its peak FP32, BF16 and INT8 GEMM rates.

A short microbenchmark (square matrix products in PyTorch, all cores) measures the peaks once per
environment fingerprint; they are kept beside the trained models, so every later run on the same
machine and libraries reads them. A run's achieved rate is its model's FLOPs per image times its
images per second, as a share of the peak for the precision it computes in.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

PRECISIONS = ("fp32", "bf16", "int8")
SIZE, SECONDS = 512, 0.25


def measure_peaks(size: int = SIZE, seconds: float = SECONDS) -> dict[str, float | None]:
    """GOP/s of a size x size matrix product per precision; None where this CPU or build cannot run it."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    kernels = {"fp32": (torch.mm, a, b), "bf16": (torch.mm, a.bfloat16(), b.bfloat16()),
               "int8": (torch._int_mm, a.clamp(-1, 1).mul(100).to(torch.int8), b.clamp(-1, 1).mul(100).to(torch.int8))}
    peaks: dict[str, float | None] = {}
    for name, (kernel, x, y) in kernels.items():
        try:
            kernel(x, y)
        except RuntimeError:  # e.g. no int8 GEMM in this build
            peaks[name] = None
            continue
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            kernel(x, y)
            calls += 1
        peaks[name] = 2.0 * size ** 3 * calls / (time.perf_counter() - start) / 1e9
    return peaks


def peaks(folder: Path, fingerprint: str) -> dict[str, float | None]:
    """This machine's peaks for `fingerprint`, measured once and kept as JSON in `folder`."""
    return measured_once(folder / f"peaks-{fingerprint}.json", measure_peaks)


def measured_once(path: Path, measure) -> dict:
    """The JSON at `path`, or `measure()` written there first (atomically: a second process reads either nothing or
    the whole file; a damaged file is measured again)."""
    if path.is_file():
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            pass
    found = measure()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(found))
    partial.replace(path)
    return found


def achieved(gflops_per_image: float | None, images_per_s: float | None, peak: float | None
             ) -> tuple[float, float | None] | None:
    """(achieved GOP/s, share of the peak in %) — None when the model's FLOPs or the rate are unknown. A model
    that outruns the microbenchmark has no share: the microbenchmark missed this CPU's fast path (torch's INT8
    GEMM without VNNI), so it is no peak."""
    if not gflops_per_image or not images_per_s:
        return None
    rate = gflops_per_image * images_per_s
    return rate, (100.0 * rate / peak if peak and rate <= peak else None)


def beyond_peak(rate: float, peak: float | None) -> bool:
    """True when a model ran faster than the measured peak of its precision: that peak is not this machine's."""
    return bool(peak) and rate > peak
