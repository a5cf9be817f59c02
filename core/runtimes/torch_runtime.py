"""Torch predictor (eager or compiled, CPU or CUDA)."""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from core.artifacts import CompiledArtifact, TorchArtifact
from core.errors import InferScopeError
from core.progress import Progress
from core.runtimes.base import Events, Runtime, default_threads
from core.runtimes.settings import RuntimeSettings


class TorchPredictor:
    notes: tuple[str, ...] = ()

    def __init__(self, artifact: TorchArtifact | CompiledArtifact, runtime: RuntimeSettings, threads: int) -> None:
        import torch

        if runtime.device == "cuda" and not torch.cuda.is_available():
            raise InferScopeError("device cuda is not available here (torch.cuda.is_available() is False); "
                                  "use --device cpu")
        torch.set_num_threads(threads)
        self._torch = torch
        self.device = torch.device(runtime.device)
        compiled = artifact.kind == "compiled"
        source = artifact.source if compiled else artifact.module.to(self.device).eval()
        # A compiled module was built for this device by its technique; moving it would recompile.
        self.module = artifact.module if compiled else source
        self.engine = "torch-compiled" if compiled else "torch-eager"
        self.dtype = next((p.dtype for p in source.parameters() if p.is_floating_point()), torch.float32)
        self.memory_format = torch.channels_last if artifact.channels_last else torch.contiguous_format
        self.provider = runtime.device
        self.settings = {"threads": torch.get_num_threads(), "inter_op_threads": torch.get_num_interop_threads(),
                         "dtype": str(self.dtype).replace("torch.", ""),
                         "channels_last": artifact.channels_last}

    def prepare(self, batch: np.ndarray) -> Any:
        tensor = self._torch.from_numpy(batch).to(self.device)
        if not tensor.is_floating_point():  # a text model's packed token ids stay integers
            return tensor
        return tensor.to(self.dtype).contiguous(memory_format=self.memory_format)

    def run(self, native: Any) -> Any:
        with self._torch.inference_mode():
            out = self.module(native)
        if self.device.type == "cuda":
            self._torch.cuda.synchronize()
        return out

    def to_numpy(self, output: Any) -> np.ndarray:
        return output.float().cpu().numpy()


def profile_torch(prepared, batches, calls: int, progress: Progress) -> tuple[Events, float]:
    """Self CPU time of each aten operator during `calls` eager calls, and the wall time per call (ms)."""
    import torch
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    torch.set_num_threads(prepared.recipe.runtime.threads or default_threads())  # as the run was timed
    module = prepared.artifact.module
    fit = prepared.model.input_spec.fit or (lambda batch: batch)  # fed as the run was timed (a text run's padding)
    tensors = [torch.from_numpy(np.ascontiguousarray(b, dtype=np.float32 if b.dtype.kind == "f" else b.dtype))
               for b in map(fit, batches)]
    with torch.inference_mode():
        for k in range(10):
            module(tensors[k % len(tensors)])
        with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
            start = time.perf_counter()
            for k in range(calls):
                module(tensors[k % len(tensors)])
                if k % 50 == 0:
                    progress("profile", 0.3 + 0.7 * k / calls)
            wall_ms = (time.perf_counter() - start) * 1000.0 / calls
    # torch's quantized kernels carry their namespace ("quantized::linear_dynamic"); the rest compute in float
    events = [(e.key, e.key, float(e.self_cpu_time_total), "int8" if e.key.startswith("quantized::") else "float")
              for e in prof.key_averages() if e.self_cpu_time_total > 0]
    return events, wall_ms


# torch: an eager module that later steps may transform or export.
TORCH_RUNTIME = Runtime("torch", "a PyTorch", TorchPredictor, libraries=("torch", "torchvision", "timm"),
                        fingerprint_libraries=("torch",), engine="torch-eager", profiler=profile_torch)
# compiled: a torch.compile'd module: it runs, but nothing can transform or export it any more.
COMPILED_RUNTIME = Runtime("compiled", "a compiled PyTorch", TorchPredictor, libraries=("torch",),
                           fingerprint_libraries=("torch",), engine="torch-compiled")
