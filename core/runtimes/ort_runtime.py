"""ONNX Runtime predictor: one InferenceSession with explicit threads and execution provider."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from core.artifacts import OnnxArtifact
from core.errors import InferScopeError, RecipeError
from core.inputs import feeds
from core.progress import Progress
from core.runtimes.base import Events, Runtime, default_threads
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
        self.input_names = [i.name for i in self.session.get_inputs()]
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
        named = feeds(self.input_names, batch)
        if not self.io_binding:
            return named
        import onnxruntime as ort

        device = "cuda" if self.provider != "CPUExecutionProvider" else "cpu"
        binding = self.session.io_binding()
        for name, value in named.items():
            binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(value, device, 0))
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


# How ONNX Runtime names the operators of a quantized graph once it has fused the Q/DQ pairs around them.
INTEGER_OPS = ("QLinear", "ConvInteger", "MatMulInteger", "DynamicQuantize", "QGemm", "QAttention")
CONVERSION_OPS = ("QuantizeLinear", "DequantizeLinear", "Cast")
WEIGHT_ONLY_OPS = ("MatMulNBits",)  # INT4/INT8 weights unpacked in the kernel (a language model's weight-only step)
# Operators that move data rather than compute (layout changes onnxruntime inserts around NCHWc/NHWC kernels).
LAYOUT_OPS = ("Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "ReorderInput", "ReorderOutput",
              "NhwcMaxPool", "Concat", "Identity")


def operator_precision(op_type: str) -> str:
    """int8, weight-only (float arithmetic over weights stored in fewer bits), float, conversion (Q/DQ/Cast) or
    layout (data movement, in whichever type flows through)."""
    if op_type in WEIGHT_ONLY_OPS:
        return "weight-only"
    if op_type in CONVERSION_OPS:
        return "conversion"
    if op_type in LAYOUT_OPS:
        return "layout"
    return "int8" if any(p in op_type for p in INTEGER_OPS) else "float"


def profile_onnx(prepared, batches, calls: int, progress: Progress) -> tuple[Events, float]:
    """Every operator ONNX Runtime ran during `calls` calls, and the wall time per call (ms)."""
    import onnxruntime as ort

    runtime = prepared.recipe.runtime  # the same session the run was timed with, plus the profiler
    options = session_options(prepared.artifact.session, runtime.threads or default_threads())
    options.enable_profiling = True
    options.profile_file_prefix = str(Path(prepared.ctx.work_dir) / "ort-profile")
    session = ort.InferenceSession(prepared.artifact.model_bytes, sess_options=options,
                                   providers=[runtime.provider or PROVIDER_FOR_DEVICE[runtime.device]])
    names, fit = [i.name for i in session.get_inputs()], prepared.model.input_spec.fit or (lambda batch: batch)
    named = [feeds(names, fit(b)) for b in batches]  # fed as the run was timed (a text run's padding)
    for k in range(10):  # the profile keeps these too: they are dropped below by their count
        session.run(None, named[k % len(named)])
    start = time.perf_counter()
    for k in range(calls):
        session.run(None, named[k % len(named)])
        if k % 50 == 0:
            progress("profile", 0.3 + 0.7 * k / calls)
    wall_ms = (time.perf_counter() - start) * 1000.0 / calls
    trace = json.loads(Path(session.end_profiling()).read_text())
    runs = [e for e in trace if e.get("cat") == "Session" and e.get("name") == "model_run"]
    cutoff = runs[9]["ts"] + runs[9]["dur"] if len(runs) > 10 else 0  # after the warm-up calls
    events = [(e["name"].removesuffix("_kernel_time"), e["args"].get("op_name", "?"), float(e["dur"]),
               operator_precision(e["args"].get("op_name", "?")))
              for e in trace if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and e["ts"] >= cutoff]
    return events, wall_ms


ONNX_RUNTIME = Runtime("onnx", "an ONNX", OrtPredictor, libraries=("onnx", "onnxruntime", "onnxruntime-gpu"),
                       fingerprint_libraries=("onnxruntime",), check=check_provider, engine="onnxruntime",
                       profiler=profile_onnx)
