"""ONNX Runtime predictor: one InferenceSession with explicit threads and execution provider."""
from __future__ import annotations

from typing import Any

import numpy as np

from core.artifacts import OnnxArtifact
from core.errors import InferScopeError, RecipeError
from core.runtimes.base import Runtime
from core.runtimes.settings import RuntimeSettings

PROVIDER_FOR_DEVICE = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}


def session_options(session: dict[str, Any], threads: int):
    import onnxruntime as ort

    levels = {"disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
              "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
              "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
              "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}
    options = ort.SessionOptions()
    options.graph_optimization_level = levels[session.get("graph_optimization") or "all"]
    options.intra_op_num_threads = session.get("intra_op_threads") or threads
    options.inter_op_num_threads = session.get("inter_op_threads") or 1
    parallel = session.get("execution_mode") == "parallel"
    options.execution_mode = ort.ExecutionMode.ORT_PARALLEL if parallel else ort.ExecutionMode.ORT_SEQUENTIAL
    return options


class OrtPredictor:
    engine = "onnxruntime"
    notes: tuple[str, ...] = ()  # a provider that is not honoured is refused, not noted

    def __init__(self, artifact: OnnxArtifact, runtime: RuntimeSettings, threads: int) -> None:
        import onnxruntime as ort

        provider = runtime.provider or PROVIDER_FOR_DEVICE[runtime.device]
        available = ort.get_available_providers()
        if provider not in available:
            raise InferScopeError(f"execution provider {provider} is not available in this onnxruntime build "
                                  f"(available: {', '.join(available)}); choose another device or provider")
        options = session_options(artifact.session, threads)
        self.session = ort.InferenceSession(artifact.model_bytes, sess_options=options, providers=[provider])
        self.input_name = self.session.get_inputs()[0].name
        self.output_name = self.session.get_outputs()[0].name
        self.provider = self.session.get_providers()[0]
        if self.provider != provider:  # never measure the CPU and call it something else
            raise InferScopeError(f"onnxruntime fell back from {provider} to {self.provider}; check the provider's "
                                  "libraries (CUDA/cuDNN/TensorRT) on this machine")
        self.io_binding = bool(artifact.session.get("io_binding"))
        self.settings = {"threads": options.intra_op_num_threads, "inter_op_threads": options.inter_op_num_threads,
                         "graph_optimization": artifact.session.get("graph_optimization") or "all",
                         "execution_mode": artifact.session.get("execution_mode") or "sequential",
                         "io_binding": self.io_binding}

    def prepare(self, batch: np.ndarray) -> Any:
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if not self.io_binding:
            return {self.input_name: batch}
        import onnxruntime as ort

        device = "cuda" if self.provider != "CPUExecutionProvider" else "cpu"
        binding = self.session.io_binding()
        binding.bind_ortvalue_input(self.input_name, ort.OrtValue.ortvalue_from_numpy(batch, device, 0))
        binding.bind_output(self.output_name, device)
        return binding

    def run(self, native: Any) -> Any:
        if self.io_binding:
            self.session.run_with_iobinding(native)
            if self.provider != "CPUExecutionProvider":
                native.synchronize_outputs()
            return native
        return self.session.run(None, native)[0]

    def to_numpy(self, output: Any) -> np.ndarray:
        if self.io_binding:
            output = output.copy_outputs_to_cpu()[0]
        return np.asarray(output, dtype=np.float32)


def check_provider(runtime: RuntimeSettings) -> None:
    """Refuse an execution provider this onnxruntime build lacks, before any work starts."""
    if not runtime.provider:
        return
    import onnxruntime as ort

    if runtime.provider not in ort.get_available_providers():
        raise RecipeError(f"execution provider {runtime.provider} is not in this onnxruntime build "
                          f"(available: {', '.join(ort.get_available_providers())})")


ONNX_RUNTIME = Runtime("onnx", "an ONNX", OrtPredictor, libraries=("onnx", "onnxruntime", "onnxruntime-gpu"),
                       fingerprint_libraries=("onnxruntime",), check=check_provider)
