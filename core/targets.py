"""What a target is: its name rule, the environment it registers, and how its workers keep in touch.

A target is a machine (or a class of identical machines) that work is addressed to. Its workers
(`python -m core worker --target NAME`) register it in the shared store with this environment and
beat a heartbeat; the store (`RunStore.register_worker`, `requeue_lost_jobs`) keeps the rest.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import ConfigError
from core.options import option


@dataclass(frozen=True)
class WorkerSettings:
    """How a target's worker keeps in touch with the store (`python -m core worker --target NAME`)."""

    heartbeat_s: float = option(5.0, "seconds between heartbeats written to the store", minimum=0.1, maximum=3600.0,
                                label="heartbeat (s)")
    requeue_after_s: float = option(60.0, "a worker silent this long is lost: its job goes back to the queue once",
                                    minimum=1.0, maximum=86_400.0, label="requeue after (s)")
    poll_s: float = option(2.0, "seconds between looks at an empty queue", minimum=0.05, maximum=3600.0,
                           label="poll (s)")


TARGET_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def check_target_name(name: str) -> str:
    """A target's name as typed (`--target`, the Run page): 1-64 letters, digits, '-', '_' or '.'."""
    if not 1 <= len(name) <= 64 or not set(name) <= TARGET_NAME_CHARS:
        raise ConfigError(f"Target {name!r} is not a valid name: use 1 to 64 letters, digits, '-', '_' or '.' "
                          "(e.g. edge-box-1)")
    return name


def target_environment() -> dict[str, Any]:
    """What a target registers: CPU model and ISA flags, cores, memory, GPUs and library versions."""
    import psutil

    from core.bench.env import environment

    env = environment("cpu", "", "", {})
    gpus: list[str] = []
    try:
        import torch

        gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except (ImportError, RuntimeError):  # no torch CUDA here: the target simply has no GPU to offer
        gpus = []
    keep = ("cpu", "isa", "logical_cores", "host", "os", "libraries")
    return {**{k: env[k] for k in keep}, "memory_gb": round(psutil.virtual_memory().total / 2 ** 30, 1),
            "gpus": gpus}
