"""Technique registry: each technique module registers itself here by name."""
from __future__ import annotations

from core.registry import Registry
from core.techniques import (
    cache,
    compile,
    distill,
    dynamic_int8,
    fp32,
    onnx_export,
    ort,
    ort_static_int8,
    precision,
    pruning,
    pt2e_int8,
)
from core.techniques.base import BuildContext, Technique

TECHNIQUES: Registry[Technique] = Registry("technique")
# Registration order is the canonical step order the Run page applies: shrink the model, change its
# precision or layout, quantize or compile it in torch, or export it and transform the ONNX graph.
for _technique in (fp32.TECHNIQUE, pruning.STRUCTURED, pruning.UNSTRUCTURED, distill.TECHNIQUE, precision.BF16,
                   compile.CHANNELS_LAST, dynamic_int8.TORCH_DYNAMIC, pt2e_int8.TECHNIQUE, compile.TORCH_COMPILE,
                   onnx_export.TECHNIQUE, precision.FP16, dynamic_int8.ORT_DYNAMIC, ort_static_int8.TECHNIQUE,
                   ort.TECHNIQUE, cache.TECHNIQUE):
    TECHNIQUES.register(_technique.name, _technique)

# Pairs that cannot share a recipe, with the reason shown to the user.
CONFLICTS: dict[frozenset[str], str] = {
    frozenset({"fp16", "ort_static_int8"}): "INT8 quantization needs a float32 graph",
    frozenset({"fp16", "ort_dynamic_int8"}): "INT8 quantization needs a float32 graph",
    frozenset({"ort_static_int8", "ort_dynamic_int8"}): "a graph is quantized once",
    frozenset({"pt2e_static_int8", "torch_dynamic_int8"}): "a model is quantized once",
    frozenset({"bf16", "pt2e_static_int8"}): "PT2E quantizes a float32 model",
    frozenset({"bf16", "torch_dynamic_int8"}): "dynamic INT8 quantizes a float32 model",
    frozenset({"bf16", "onnx_export"}): "onnxruntime's CPU provider lacks bfloat16 kernels; use fp16 after onnx_export",
    frozenset({"fp16", "bf16"}): "pick one half-precision format",
}

__all__ = ["TECHNIQUES", "CONFLICTS", "Technique", "BuildContext"]
