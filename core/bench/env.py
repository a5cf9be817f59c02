"""The environment fingerprint stored with every run: runs from different fingerprints do not compare."""
from __future__ import annotations

import functools
import hashlib
import json
import platform
import socket
from importlib import metadata
from pathlib import Path
from typing import Any

ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8",
             "amx_bf16")
# Recorded beside every runtime's own libraries (`core.runtimes.recorded_libraries`).
BASE_LIBRARIES = ("numpy",)


@functools.lru_cache(maxsize=1)
def cpu_info() -> dict[str, Any]:
    """CPU model and ISA flags from /proc/cpuinfo (Linux); platform data elsewhere."""
    model, flags = platform.processor() or platform.machine(), set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    return {"cpu": model, "isa": [f for f in ISA_FLAGS if f in flags]}


def library_versions() -> dict[str, str]:
    from core.runtimes import (
        recorded_libraries,  # here: the runtimes import torch and onnxruntime lazily too
    )

    versions = {"python": platform.python_version()}
    for name in (*BASE_LIBRARIES, *recorded_libraries()):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def gpu_name(device: str) -> str | None:
    if device != "cuda":
        return None
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


def environment(device: str, engine: str, provider: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Everything about where a run was measured."""
    import os

    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cores = len(affinity) if affinity else os.cpu_count()
    return {**cpu_info(), "logical_cores": cores, "cpu_affinity": affinity, "host": socket.gethostname(),
            "os": platform.platform(),
            "device": device, "gpu": gpu_name(device), "engine": engine, "provider": provider,
            "runtime_settings": settings, "libraries": library_versions()}


def fingerprint(env: dict[str, Any]) -> str:
    """A short hash of what makes timings comparable: hardware, cores, device and library versions.

    Engine and threads are left out on purpose: comparing them is the point of a run.
    """
    key = {k: env.get(k) for k in ("cpu", "isa", "logical_cores", "device", "gpu")}
    from core.runtimes import fingerprint_libraries

    counted = fingerprint_libraries()
    key["libraries"] = {k: v for k, v in (env.get("libraries") or {}).items() if k in counted}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
