"""`openvino`: run the model in OpenVINO Runtime, read from the ONNX graph or converted from the torch module."""
from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np

from core.artifacts import OnnxArtifact, TorchArtifact, state_dict_bytes
from core.errors import InferScopeError
from core.inputs import feeds
from core.options import option
from core.runtimes.openvino_runtime import HINTS, OpenVinoArtifact
from core.techniques.base import BuildContext, Explored, ExportRule, Technique
from core.techniques.scoring import onnx_logits

PRECISIONS = ("f32", "bf16", "f16")


@dataclass(frozen=True)
class OpenVinoConfig:
    performance_hint: str = option("latency", "what OpenVINO tunes streams and threads for: one request at a time "
                                              "(latency) or many in flight (throughput)", choices=tuple(HINTS))
    streams: int | None = option(None, "requests the device runs in parallel; empty = the hint's choice",
                                 minimum=1, maximum=64)
    precision: str = option("f32", "inference precision hint: f32 keeps the model's float32 arithmetic; bf16 (CPUs "
                                   "with AVX512-BF16 or AMX) and f16 are faster and lose some accuracy",
                            choices=PRECISIONS, label="inference precision")
    cpu_pinning: bool | None = option(None, "pin OpenVINO's threads to cores; empty = OpenVINO's default",
                                      choices=(True, False), none_label="OpenVINO's default", label="CPU pinning")


def apply(artifact: OnnxArtifact | TorchArtifact, config: OpenVinoConfig, ctx: BuildContext) -> OpenVinoArtifact:
    import openvino as ov

    if artifact.kind == "onnx":
        try:
            model = ov.Core().read_model(artifact.model_bytes, b"")
        except RuntimeError as exc:
            raise InferScopeError(f"openvino: OpenVINO cannot read this ONNX graph: {str(exc).splitlines()[-1]}") \
                from None
        result = OpenVinoArtifact(model, onnx_bytes=artifact.model_bytes, size=len(artifact.model_bytes))
    else:
        import torch

        with warnings.catch_warnings(), torch.inference_mode(False):
            warnings.simplefilter("ignore")
            try:
                model = ov.convert_model(artifact.module, example_input=torch.from_numpy(ctx.example))
            except Exception as exc:  # noqa: BLE001 - the converter raises many kinds; the run fails with the reason
                raise InferScopeError(f"openvino: the torch module could not be converted ({type(exc).__name__}: "
                                      f"{str(exc).splitlines()[0][:300]}); add onnx_export before openvino") from None
        result = OpenVinoArtifact(model, source_module=artifact.module, size=state_dict_bytes(artifact.module))
    _check_outputs(result, artifact, ctx)
    result.config = asdict(config)
    result.response_cache = artifact.response_cache
    return result


def _check_outputs(result: OpenVinoArtifact, source: OnnxArtifact | TorchArtifact, ctx: BuildContext) -> None:
    """The OpenVINO model in float32 must give the source's logits on real inputs: a converter bug must not pass."""
    import openvino as ov

    compiled = ov.Core().compile_model(result.model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    sample = ctx.example
    if not compiled.inputs[0].partial_shape[0].is_dynamic:
        sample = np.resize(sample, tuple(compiled.inputs[0].shape))  # a graph of fixed batch
    got = compiled.create_infer_request().infer(feeds([port.any_name for port in compiled.inputs], sample))[0]
    expected = _source_logits(source, sample)
    error = float(np.max(np.abs(expected - got)))
    relative = float(np.linalg.norm(expected - got) / (np.linalg.norm(expected) or 1.0))
    # A float graph must agree to rounding; a quantized one runs other INT8 kernels (other rounding, fusions),
    # so only a gross difference is a translation error: its accuracy and fidelity are measured anyway.
    quantized = source.kind == "onnx" and _has_quantize_nodes(source.model_bytes)
    if relative > 0.1 if quantized else error > 1e-2 * max(1.0, float(np.max(np.abs(expected)))):
        raise InferScopeError(f"openvino: the OpenVINO model differs from its source by up to {error:.3g} "
                              f"({100 * relative:.1f}% of the logits' norm) on the subset; the model uses an operation "
                              "OpenVINO translates wrongly")
    ctx.notes.append(f"openvino: max |source - OpenVINO| = {error:.2e} ({100 * relative:.2g}% of the logits' norm) on "
                     f"{len(sample)} {ctx.input_spec.item}s"
                     + (" (INT8 kernels differ between engines)" if quantized else ""))


def _has_quantize_nodes(model_bytes: bytes) -> bool:
    import onnx

    return any(node.op_type == "QuantizeLinear" for node in onnx.load_from_string(model_bytes).graph.node)


def _source_logits(source: OnnxArtifact | TorchArtifact, sample: np.ndarray) -> np.ndarray:
    if source.kind == "onnx":
        return onnx_logits(source.model_bytes, sample, len(sample))
    import torch

    with torch.inference_mode():
        return source.module(torch.from_numpy(sample)).float().numpy()


TECHNIQUE = Technique(
    name="openvino", summary="run in OpenVINO Runtime (from the ONNX graph or the torch module): threads, "
                             "performance hint, streams, inference precision, pinning",
    config_cls=OpenVinoConfig, accepts=frozenset({"onnx", "torch"}), produces="openvino", apply=apply, position="last",
    lossless=lambda config: config.get("precision", "f32") == "f32", explore=Explored("engine"),
    export=lambda kind: ExportRule("runtime", "measured in OpenVINO Runtime: the file is the model's ONNX graph and "
                                   "inferscope.measured_with in its metadata has OpenVINO's settings; load it with "
                                   "openvino.Core().read_model and compile it with those properties", rebuilt=True))
