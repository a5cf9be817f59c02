"""ONNX Runtime predictor: one InferenceSession with explicit threads and execution provider."""
from __future__ import annotations

from typing import Any

import numpy as np

from core.artifacts import OnnxArtifact
from core.errors import InferScopeError
from core.recipe import RuntimeSettings

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

    def __init__(self, artifact: OnnxArtifact, runtime: RuntimeSettings, threads: int) -> None:
        import onnxruntime as ort

        provider = PROVIDER_FOR_DEVICE[runtime.device]
        available = ort.get_available_providers()
        if provider not in available:
            raise InferScopeError(f"execution provider {provider} is not available in this onnxruntime build "
                                  f"(available: {', '.join(available)}); choose another device")
        options = session_options(artifact.session, threads)
        self.session = ort.InferenceSession(artifact.model_bytes, sess_options=options, providers=[provider])
        self.input_name = self.session.get_inputs()[0].name
        self.provider = self.session.get_providers()[0]
        self.settings = {"threads": options.intra_op_num_threads, "inter_op_threads": options.inter_op_num_threads,
                         "graph_optimization": artifact.session.get("graph_optimization") or "all",
                         "execution_mode": artifact.session.get("execution_mode") or "sequential"}

    def prepare(self, batch: np.ndarray) -> Any:
        return {self.input_name: np.ascontiguousarray(batch, dtype=np.float32)}

    def run(self, native: Any) -> Any:
        return self.session.run(None, native)[0]

    def to_numpy(self, output: Any) -> np.ndarray:
        return np.asarray(output, dtype=np.float32)
