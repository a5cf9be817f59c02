"""`nncf_int8`: NNCF post-training INT8 on the ONNX graph (QDQ ONNX out: it runs in onnxruntime and OpenVINO).

`nncf.quantize` calibrates on images disjoint from the subset. With `max_drop` it is
`nncf.quantize_with_accuracy_control`: NNCF quantizes everything, scores the model with the run's
own validation function on validation images (disjoint from the calibration images and the
subset) and returns layers to float, most harmful first, until the drop is within `max_drop`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np

from core.artifacts import OnnxArtifact
from core.bench.accuracy import predicted
from core.errors import InferScopeError
from core.inputs import feeds
from core.options import option
from core.quantization.keep_float import KEEP_FLOAT_HELP, kept_nodes, kept_words
from core.techniques.base import BuildContext, Explored, Technique
from core.techniques.scoring import call_batch, onnx_logits

PRESETS = ("performance", "mixed")
MODEL_TYPES = ("auto", "default", "transformer")


@dataclass(frozen=True)
class NncfInt8Config:
    preset: str = option("performance", "performance: symmetric INT8 weights and activations (fastest); mixed: "
                                        "asymmetric activations (better accuracy after ReLU-free layers)",
                         choices=PRESETS)
    fast_bias_correction: bool = option(True, "correct each layer's bias shift from quantization with NNCF's fast "
                                              "method (off: the slower exact bias correction, which NNCF 3.4 cannot "
                                              "run on some exported graphs, e.g. the default model's)")
    model_type: str = option("auto", "transformer: NNCF's rules for transformer graphs (which nodes stay in float, "
                                     "e.g. softmax and the layer norms); auto: transformer for text models",
                             choices=MODEL_TYPES)
    calibration_size: int = option(300, "calibration images (NNCF's subset size), from a split disjoint from the "
                                        "subset", minimum=1, maximum=100_000)
    keep_float: tuple[str, ...] | None = option(None, KEEP_FLOAT_HELP + " (NNCF's ignored scope)")
    max_drop: float | None = option(None, "accuracy control: NNCF returns the layers that hurt most to float until "
                                          "top-1 on the validation images is within this many points of FP32; "
                                          "empty = quantize everything", minimum=0.0, maximum=100.0,
                                    label="max drop vs FP32 (points)")
    validation_size: int = option(300, "accuracy control: images that decide, disjoint from the calibration images "
                                       "and from the subset", minimum=10, maximum=100_000, label="validation images",
                                  requires="max_drop")


def apply(artifact: OnnxArtifact, config: NncfInt8Config, ctx: BuildContext) -> OnnxArtifact:
    import nncf
    import onnx

    nncf.set_log_level(logging.WARNING)  # the run's notes say what it did
    model = onnx.load_from_string(artifact.model_bytes)
    wanted = config.keep_float
    config = replace(config, keep_float=kept_nodes("nncf_int8", config.keep_float, model.graph) or None)
    input_names = [i.name for i in model.graph.input]
    batch = call_batch(artifact.model_bytes, 1)
    images = ctx.calibration(config.calibration_size)
    usable = max(batch, len(images) // batch * batch)
    calibration = nncf.Dataset(_batches(np.resize(images, (usable, *images.shape[1:])), batch),
                               lambda x: feeds(input_names, x))
    transformer = config.model_type == "transformer" or (config.model_type == "auto" and ctx.input_spec.transformer)
    common = dict(preset=getattr(nncf.QuantizationPreset, config.preset.upper()),
                  model_type=nncf.ModelType.TRANSFORMER if transformer else None,
                  subset_size=usable // batch,
                  fast_bias_correction=config.fast_bias_correction,
                  ignored_scope=nncf.IgnoredScope(names=list(config.keep_float or ())))
    ctx.progress("nncf_int8", 0.1)
    try:
        if config.max_drop is None:
            quantized = nncf.quantize(model, calibration, **common)
        else:
            quantized = _with_accuracy_control(nncf, model, artifact.model_bytes, calibration, input_names, batch,
                                               config, ctx, common)
    except (nncf.ValidationError, nncf.UnsupportedModelError) as exc:  # e.g. an ignored scope NNCF cannot honour
        raise InferScopeError(f"nncf_int8: {exc}") from None
    except RuntimeError as exc:  # NNCF's own algorithms failing on this graph: the run fails with the reason
        hint = ("; its exact bias correction fails on some graphs: try fast_bias_correction=true"
                if not config.fast_bias_correction else "; try ort_static_int8 instead")
        raise InferScopeError(f"nncf_int8: NNCF could not quantize this graph ({str(exc).splitlines()[0][:300]})"
                              f"{hint}") from None
    model_bytes = quantized.SerializeToString()
    ops = {node.op_type for node in quantized.graph.node}
    if "QuantizeLinear" not in ops:
        raise InferScopeError("nncf_int8: no operator was quantized; the model has no Conv/MatMul/Gemm NNCF "
                              "quantizes")
    ctx.notes.append(f"nncf_int8: calibrated on {usable} {ctx.input_spec.item}s ({config.preset} preset, "
                     + ("transformer model type, " if transformer else "")
                     + f"{'fast ' if config.fast_bias_correction else ''}bias correction"
                     + f"{kept_words(wanted, config.keep_float)})")
    return OnnxArtifact(model_bytes, session=dict(artifact.session))


def _batches(images: np.ndarray, batch: int) -> list[np.ndarray]:
    return [images[i:i + batch] for i in range(0, len(images), batch)]


def _with_accuracy_control(nncf, model, float_bytes: bytes, calibration, input_names: list[str], batch: int,
                           config: NncfInt8Config, ctx: BuildContext, common: dict):
    """nncf.quantize_with_accuracy_control, scored in points of top-1 (or of agreement with FP32 without labels)."""
    images, labels = ctx.validation(config.calibration_size, config.validation_size)
    usable = len(images) // batch * batch
    images, labels = images[:usable], None if labels is None else labels[:usable]
    if not usable:
        raise InferScopeError(f"nncf_int8: the model takes batches of {batch}; raise validation_size to at least "
                              f"{batch}")
    metric = "top-1" if labels is not None else "agreement with FP32"
    truth = labels if labels is not None else predicted(onnx_logits(float_bytes, images, batch))
    evaluations = [0]

    def score(model_bytes: bytes) -> tuple[float, list[float]]:
        hits = predicted(onnx_logits(model_bytes, images, batch)) == truth
        return float(100.0 * hits.mean()), [float(h) for h in hits.reshape(-1, batch).mean(1)]

    def validate(candidate, items) -> tuple[float, list[float]]:  # NNCF's validation function: (metric, per item)
        evaluations[0] += 1
        ctx.progress("nncf_int8 · accuracy control", min(0.95, 0.2 + 0.05 * evaluations[0]))
        return score(candidate.SerializeToString())

    validation = nncf.Dataset(_batches(images, batch), lambda x: feeds(input_names, x))
    quantized = nncf.quantize_with_accuracy_control(model, calibration, validation, validate,
                                                    max_drop=config.max_drop, drop_type=nncf.DropType.ABSOLUTE,
                                                    **common)
    reference, final = score(float_bytes)[0], score(quantized.SerializeToString())[0]
    points = f"{config.max_drop:g} point{'' if config.max_drop == 1 else 's'}"
    outcome = (f"within {points}" if reference - final <= config.max_drop else
               f"the target of {points} was not reached (NNCF returned its best model)")
    ctx.notes.append(f"nncf_int8 accuracy control: FP32 {metric} {reference:.2f}, INT8 {final:.2f} on {usable} "
                     f"validation images after {evaluations[0]} evaluations — {outcome}")
    return quantized


TECHNIQUE = Technique(
    name="nncf_int8", summary="NNCF post-training INT8 (QDQ ONNX, runs in onnxruntime and OpenVINO), optionally "
                              "accuracy-controlled",
    config_cls=NncfInt8Config, accepts=frozenset({"onnx"}), apply=apply,
    calibration_size=lambda config: config.calibration_size,
    validation_size=lambda config: config.validation_size if config.max_drop is not None else 0,
    precision="int8", quantization="static", keep_float="keep_float", explore=Explored("quantize"))
