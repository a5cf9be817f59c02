"""`ort_static_int8`: static INT8 quantization (QDQ) with onnxruntime.quantization, calibrated on real images."""
from __future__ import annotations

from dataclasses import dataclass, replace

from core.artifacts import OnnxArtifact
from core.errors import InferScopeError
from core.options import option
from core.quantization.calibration import CalibrationReader
from core.quantization.keep_float import KEEP_FLOAT_HELP, kept_nodes, kept_words
from core.techniques.base import BuildContext, Explored, Technique

CALIBRATION_METHODS = ("MinMax", "Entropy", "Percentile")
QUANT_TYPES = ("QUInt8", "QInt8")


@dataclass(frozen=True)
class OrtStaticInt8Config:
    per_channel: bool = option(True, "one scale per output channel of each weight (better accuracy)")
    calibration_method: str = option("MinMax", "how activation ranges are chosen from calibration images",
                                     choices=CALIBRATION_METHODS)
    calibration_size: int = option(200, "calibration images, from a split disjoint from the subset",
                                   minimum=1, maximum=100_000)
    activation_type: str = option("QUInt8", "activation type (U8 activations with S8 weights is x86 VNNI's fast path)",
                                  choices=QUANT_TYPES)
    weight_type: str = option("QInt8", "weight type", choices=QUANT_TYPES)
    keep_float: tuple[str, ...] | None = option(None, KEEP_FLOAT_HELP)
    max_drop: float | None = option(None, "accuracy-aware: quantize everything, then move the node adding the most "
                                          "quantization noise back to float, one at a time (re-ranked after each), "
                                          "until top-1 on the validation images is within this many points of FP32; "
                                          "empty = quantize everything", minimum=0.0, maximum=100.0,
                                    label="max drop vs FP32 (points)")
    validation_size: int = option(300, "accuracy-aware: images that decide, disjoint from the calibration images and "
                                       "from the subset", minimum=10, maximum=100_000, label="validation images",
                                  requires="max_drop")


def apply(artifact: OnnxArtifact, config: OrtStaticInt8Config, ctx: BuildContext) -> OnnxArtifact:
    import onnx
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    source = ctx.work_dir / "float.onnx"
    prepared = ctx.work_dir / "float-prepared.onnx"
    quantized = ctx.work_dir / "int8.onnx"
    source.write_bytes(artifact.model_bytes)
    try:
        quant_pre_process(str(source), str(prepared))
    except Exception as exc:  # noqa: BLE001 - its symbolic shape inference gives up on some graphs (dynamo BERTs)
        # ONNX's own shape inference is enough to quantize; only the symbolic pass is skipped, and the run says so.
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        ctx.notes.append(f"ort_static_int8: onnxruntime's symbolic shape inference failed ({str(exc)[:120]}); the "
                         "graph was prepared with ONNX shape inference only")
    ctx.progress("ort_static_int8", 0.2)
    graph = onnx.load(str(prepared), load_external_data=False).graph
    wanted = config.keep_float
    # resolved now, before any calibration: names, patterns and groups become the graph's node names
    config = replace(config, keep_float=kept_nodes("ort_static_int8", config.keep_float, graph) or None)
    images = ctx.calibration(config.calibration_size)

    def quantize(keep_float: list[str], share: float = 0.7) -> bytes:
        reader = CalibrationReader([i.name for i in graph.input], images,
                                   lambda f: ctx.progress("ort_static_int8", 0.2 + share * f))
        quantize_static(str(prepared), str(quantized), reader, quant_format=QuantFormat.QDQ,
                        per_channel=config.per_channel, activation_type=getattr(QuantType, config.activation_type),
                        weight_type=getattr(QuantType, config.weight_type), nodes_to_exclude=list(keep_float),
                        calibrate_method=getattr(CalibrationMethod, config.calibration_method))
        return quantized.read_bytes()

    model_bytes = quantize(list(config.keep_float or ()), 0.7 if config.max_drop is None else 0.1)
    if config.max_drop is not None:
        from core.techniques.accuracy_aware import accuracy_aware

        model_bytes = accuracy_aware(prepared, model_bytes, images, config, ctx, quantize)
    ops = {node.op_type for node in onnx.load_from_string(model_bytes).graph.node}
    if "QuantizeLinear" not in ops:
        raise InferScopeError("ort_static_int8: no operator was quantized; the model has no Conv/MatMul/Gemm "
                              "that onnxruntime can quantize")
    ctx.notes.append(f"ort_static_int8: calibrated on {len(images)} {ctx.input_spec.item}s "
                     f"({config.calibration_method}, "
                     f"per_channel={config.per_channel}, {config.activation_type} activations, "
                     f"{config.weight_type} weights{kept_words(wanted, config.keep_float)})")
    return OnnxArtifact(model_bytes, session=dict(artifact.session))


TECHNIQUE = Technique(
    name="ort_static_int8", summary="onnxruntime static INT8 (QDQ), calibrated on images disjoint from the subset",
    config_cls=OrtStaticInt8Config, accepts=frozenset({"onnx"}), apply=apply,
    calibration_size=lambda config: config.calibration_size,
    validation_size=lambda config: config.validation_size if config.max_drop is not None else 0,
    precision="int8", quantization="static", keep_float="keep_float", diagnosable=True,
    explore=Explored("quantize", ("ort_static_int8", "ort_static_int8:calibration_method=Percentile")))
