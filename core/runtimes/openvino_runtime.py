"""OpenVINO Runtime predictor: one compiled model, a pool of OpenVINO infer requests, settings read back.

The artifact kind "openvino" is a model read from ONNX (`openvino.Core().read_model`) or converted
from a torch module (`openvino.convert_model`), plus the `openvino` step's settings. The predictor
compiles it for the device with explicit threads, performance hint, streams, inference precision
and pinning, and then reads back what the device actually chose: OpenVINO's CPU plugin silently
runs float32 models in bfloat16 on CPUs that have it unless told otherwise, so a setting the device
did not honour becomes a note on the run, never a silent difference.
"""
from __future__ import annotations

import queue
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.errors import InferScopeError, RecipeError
from core.inputs import feeds
from core.progress import Progress
from core.runtimes.base import Events, Runtime, default_threads
from core.runtimes.settings import RuntimeSettings

DEVICE_FOR = {"cpu": "CPU"}  # OpenVINO's GPU device is Intel's: a CUDA device is not one of its devices
HINTS = {"latency": "LATENCY", "throughput": "THROUGHPUT"}


@dataclass
class OpenVinoArtifact:
    """An OpenVINO model with the settings it runs with.

    `onnx_bytes`: the ONNX file it was read from (what an export writes), or None when it was
    converted from the torch module `source_module`.
    """

    model: Any                                   # openvino.Model
    onnx_bytes: bytes | None = None
    source_module: Any = None
    config: dict[str, Any] = field(default_factory=dict)  # OpenVinoConfig fields set by the `openvino` step
    size: int = 0
    response_cache: dict[str, Any] | None = None
    kind: str = "openvino"

    def size_bytes(self) -> int:
        return self.size


def compile_properties(config: dict[str, Any], threads: int) -> dict[str, Any]:
    """The OpenVINO properties a run asks for (only those it sets: the rest stay the device's choice)."""
    properties: dict[str, Any] = {"INFERENCE_NUM_THREADS": threads,
                                  "PERFORMANCE_HINT": HINTS[config.get("performance_hint") or "latency"],
                                  "INFERENCE_PRECISION_HINT": config.get("precision") or "f32"}
    if config.get("streams"):
        properties["NUM_STREAMS"] = int(config["streams"])
    if config.get("cpu_pinning") is not None:
        properties["ENABLE_CPU_PINNING"] = bool(config["cpu_pinning"])
    return properties


class OpenVinoPredictor:
    """Runs a compiled OpenVINO model; safe to call from several threads (one infer request each at a time).

    The pool holds the device's optimal number of infer requests (one per stream under the throughput
    hint); a caller waits for a free one, as it would on OpenVINO's AsyncInferQueue.
    """

    engine = "openvino"

    def __init__(self, artifact: OpenVinoArtifact, runtime: RuntimeSettings, threads: int) -> None:
        import openvino as ov

        check_openvino(runtime)
        device = DEVICE_FOR[runtime.device]
        asked = compile_properties(artifact.config, threads)
        try:
            self.compiled = ov.Core().compile_model(artifact.model, device, asked)
        except RuntimeError as exc:
            raise InferScopeError(f"OpenVINO could not compile the model for {device}: {str(exc).splitlines()[-1]}") \
                from None
        got = {"threads": int(self.compiled.get_property("INFERENCE_NUM_THREADS")),
               "performance_hint": str(self.compiled.get_property("PERFORMANCE_HINT")).lower(),
               "streams": int(self.compiled.get_property("NUM_STREAMS")),
               "precision": self.compiled.get_property("INFERENCE_PRECISION_HINT").to_string(),
               "cpu_pinning": bool(self.compiled.get_property("ENABLE_CPU_PINNING")),
               "infer_requests": int(self.compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))}
        self.input_names = [port.any_name for port in self.compiled.inputs]
        self.provider = device
        self.settings = got
        self.notes = tuple(not_honoured(asked, got))
        self._requests: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(max(1, got["infer_requests"])):
            self._requests.put(self.compiled.create_infer_request())

    def prepare(self, batch: np.ndarray) -> Any:
        import openvino as ov

        # An OpenVINO tensor over the array's memory: the call then copies nothing in (the cheapest call path,
        # which matters for models whose call takes a tenth of a millisecond).
        named = feeds(self.input_names, batch)
        tensors = {name: ov.Tensor(value, shared_memory=True) for name, value in named.items()}
        return tensors if len(tensors) > 1 else next(iter(tensors.values()))

    def run(self, native: Any) -> Any:
        request = self._requests.get()
        try:
            if isinstance(native, dict):  # a text graph's named inputs
                for name, tensor in native.items():
                    request.set_tensor(name, tensor)
            else:
                request.set_input_tensor(native)
            request.infer()
            # Copied out of the request's buffer before another caller may reuse the request.
            return request.get_output_tensor(0).data.copy()
        finally:
            self._requests.put(request)

    def to_numpy(self, output: Any) -> np.ndarray:
        return np.asarray(output, dtype=np.float32)


def not_honoured(asked: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """Notes for each asked setting the compiled model does not report back."""
    pairs = [("INFERENCE_NUM_THREADS", "threads", asked.get("INFERENCE_NUM_THREADS")),
             ("PERFORMANCE_HINT", "performance_hint", str(asked.get("PERFORMANCE_HINT", "")).lower()),
             ("NUM_STREAMS", "streams", asked.get("NUM_STREAMS")),
             ("INFERENCE_PRECISION_HINT", "precision", asked.get("INFERENCE_PRECISION_HINT")),
             ("ENABLE_CPU_PINNING", "cpu_pinning", asked.get("ENABLE_CPU_PINNING"))]
    return [f"openvino: asked for {key}={wanted} but the device used {got[name]}; the run was measured with "
            f"{got[name]}" for key, name, wanted in pairs if key in asked and wanted != got[name]]


def check_openvino(runtime: RuntimeSettings) -> None:
    """Refuse settings OpenVINO cannot honour, before any work starts."""
    if runtime.device not in DEVICE_FOR:
        raise RecipeError(f"OpenVINO does not run on device {runtime.device} (its GPU device is Intel's, not CUDA); "
                          "choose device cpu, or run the ONNX file in onnxruntime (remove the openvino step)")
    if runtime.provider:
        raise RecipeError(f"execution provider {runtime.provider} is an onnxruntime setting and an OpenVINO run has "
                          "none; leave the provider empty, or remove the openvino step")


def exported(artifact: OpenVinoArtifact) -> Any:
    """What an export writes: the ONNX graph OpenVINO read, or the torch module it converted (exported to ONNX)."""
    from core.artifacts import OnnxArtifact, TorchArtifact

    if artifact.onnx_bytes is not None:
        return OnnxArtifact(artifact.onnx_bytes)
    return TorchArtifact(artifact.source_module)


def reopen(data: bytes, artifact: OpenVinoArtifact) -> OpenVinoArtifact:
    """The exported file read back into OpenVINO with the run's settings: it is verified as it was measured."""
    import openvino as ov

    return OpenVinoArtifact(ov.Core().read_model(data, b""), onnx_bytes=data, config=dict(artifact.config),
                            size=len(data))


# OpenVINO's CPU plugin: the node types that convert or move data; its kernels name their precision (`_i8`).
OPENVINO_CONVERSION = ("FakeQuantize", "Convert")
OPENVINO_LAYOUT = ("Reorder", "Reshape", "Transpose", "Concat", "Squeeze", "Unsqueeze")


def openvino_precision(node_type: str, exec_type: str) -> str:
    """int8, weight-only, float, conversion or layout for a node OpenVINO ran, from its type and its kernel's name
    (NNCF's compressed weights run in `FullyConnectedCompressed`: float arithmetic over INT4/INT8 weights)."""
    if node_type in OPENVINO_CONVERSION:
        return "conversion"
    if node_type in OPENVINO_LAYOUT:
        return "layout"
    if node_type.endswith("Compressed"):
        return "weight-only"
    return "int8" if exec_type.lower().endswith(("_i8", "_u8")) else "float"


def profile_openvino(prepared, batches, calls: int, progress: Progress) -> tuple[Events, float]:
    """Every node OpenVINO executed during `calls` calls (its performance counters), and the wall time per call."""
    import openvino as ov

    runtime = prepared.recipe.runtime  # compiled as the run was timed, plus the counters
    properties = {**compile_properties(prepared.artifact.config, runtime.threads or default_threads()),
                  "PERF_COUNT": True}
    request = ov.Core().compile_model(prepared.artifact.model, DEVICE_FOR[runtime.device],
                                      properties).create_infer_request()
    names = [port.any_name for port in request.model_inputs]
    fit = prepared.model.input_spec.fit or (lambda batch: batch)  # fed as the run was timed (a text run's padding)
    tensors = [{name: ov.Tensor(value) for name, value in feeds(names, fit(b)).items()} for b in batches]
    for k in range(10):
        request.infer(tensors[k % len(tensors)])
    events: Events = []
    wall_s = 0.0
    for k in range(calls):
        start = time.perf_counter()
        request.infer(tensors[k % len(tensors)])
        wall_s += time.perf_counter() - start
        events += [(p.node_name, p.node_type, p.real_time.total_seconds() * 1e6,
                    openvino_precision(p.node_type, p.exec_type))
                   for p in request.profiling_info if p.status == ov.ProfilingInfo.Status.EXECUTED]
        if k % 50 == 0:
            progress("profile", 0.3 + 0.7 * k / calls)
    return events, wall_s * 1000.0 / calls


OPENVINO_RUNTIME = Runtime("openvino", "an OpenVINO", OpenVinoPredictor, libraries=("openvino", "nncf"),
                           fingerprint_libraries=("openvino",), check=check_openvino, exported=exported, reopen=reopen,
                           engine="openvino", profiler=profile_openvino)
