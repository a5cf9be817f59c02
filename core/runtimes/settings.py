"""How the final model runs: threads, batch, device and execution provider (every runtime reads these)."""
from __future__ import annotations

from dataclasses import dataclass

from core.options import option

ORT_PROVIDERS = ("CPUExecutionProvider", "CUDAExecutionProvider", "TensorrtExecutionProvider",
                 "OpenVINOExecutionProvider", "DmlExecutionProvider", "CoreMLExecutionProvider")


@dataclass(frozen=True)
class RuntimeSettings:
    threads: int | None = option(None, "intra-op threads for torch, onnxruntime and OpenVINO; empty = all cores",
                                 minimum=1, maximum=256)
    batch: int = option(1, "images per inference call", minimum=1, maximum=4096)
    device: str = option("cpu", "where the model runs", choices=("cpu", "cuda"))
    provider: str | None = option(None, "onnxruntime execution provider; empty = the device's default "
                                        "(CPUExecutionProvider / CUDAExecutionProvider)", choices=ORT_PROVIDERS,
                                 none_label="the device's default")
