"""Torch eager predictor (CPU or CUDA)."""
from __future__ import annotations

from typing import Any

import numpy as np

from core.artifacts import TorchArtifact
from core.errors import InferScopeError
from core.recipe import RuntimeSettings


class TorchPredictor:
    engine = "torch-eager"

    def __init__(self, artifact: TorchArtifact, runtime: RuntimeSettings, threads: int) -> None:
        import torch

        if runtime.device == "cuda" and not torch.cuda.is_available():
            raise InferScopeError("device cuda is not available here (torch.cuda.is_available() is False); "
                                  "use --device cpu")
        torch.set_num_threads(threads)
        self._torch = torch
        self.device = torch.device(runtime.device)
        self.module = artifact.module.to(self.device).eval()
        self.dtype = next((p.dtype for p in self.module.parameters()), torch.float32)
        self.provider = runtime.device
        self.settings = {"threads": torch.get_num_threads(), "dtype": str(self.dtype).replace("torch.", "")}

    def prepare(self, batch: np.ndarray) -> Any:
        return self._torch.from_numpy(batch).to(self.device, self.dtype)

    def run(self, native: Any) -> Any:
        with self._torch.inference_mode():
            out = self.module(native)
        if self.device.type == "cuda":
            self._torch.cuda.synchronize()
        return out

    def to_numpy(self, output: Any) -> np.ndarray:
        return output.float().cpu().numpy()
