"""Technique registry: each technique module registers itself here by name."""
from __future__ import annotations

from core.registry import Registry
from core.runtimes import RUNTIMES
from core.techniques import (
    cache,
    compile,
    distill,
    distill_layers,
    dynamic_int8,
    fp32,
    generation,
    nncf_int8,
    onnx_export,
    openvino,
    ort,
    ort_static_int8,
    precision,
    pruning,
    pt2e_int8,
    transformer_optimize,
    transformer_prune,
)
from core.techniques.base import BuildContext, Technique

TECHNIQUES: Registry[Technique] = Registry("technique")
# Registration order is the canonical step order the Run page applies: shrink the model, change its
# precision or layout, quantize or compile it in torch, or export it and transform the ONNX graph; then
# choose the runtime that runs it (onnxruntime's session, or OpenVINO) and what serves in front.
for _technique in (fp32.TECHNIQUE, pruning.STRUCTURED, transformer_prune.TECHNIQUE, pruning.UNSTRUCTURED, distill.TECHNIQUE,
                   distill_layers.TECHNIQUE, precision.BF16, compile.CHANNELS_LAST, dynamic_int8.TORCH_DYNAMIC,
                   pt2e_int8.TECHNIQUE, compile.TORCH_COMPILE, onnx_export.TECHNIQUE, transformer_optimize.TECHNIQUE,
                   precision.FP16, dynamic_int8.ORT_DYNAMIC, ort_static_int8.TECHNIQUE, nncf_int8.TECHNIQUE,
                   ort.TECHNIQUE, openvino.TECHNIQUE, cache.TECHNIQUE, *generation.TECHNIQUES):
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
    frozenset({"fp16", "nncf_int8"}): "INT8 quantization needs a float32 graph",
    frozenset({"nncf_int8", "ort_static_int8"}): "a graph is quantized once",
    frozenset({"nncf_int8", "ort_dynamic_int8"}): "a graph is quantized once",
    frozenset({"torch_dynamic_int8", "openvino"}): "OpenVINO cannot convert torch's dynamic INT8 modules; quantize "
                                                   "with nncf_int8 after onnx_export instead",
    frozenset({"bf16", "openvino"}): "OpenVINO converts float32 modules; ask for openvino:precision=bf16 instead",
    frozenset({"ort", "openvino"}): "ort sets up an onnxruntime session and openvino runs the model in OpenVINO "
                                    "instead; pick one runtime",
    frozenset({"no_kv_cache", "static_cache_compile"}): "the compiled decoder runs over a static KV cache",
    frozenset({"no_kv_cache", "lm_onnx_export"}): "the exported graph takes and gives the KV cache",
    frozenset({"lm_bf16", "lm_onnx_export"}): "the graph is exported in float32; compress its weights with "
                                              "matmul_nbits instead",
    frozenset({"torchao_int8_weight_only", "lm_onnx_export"}): "torchao's INT8 tensors do not export; compress the "
                                                               "graph's weights with matmul_nbits instead",
    frozenset({"lm_dynamic_int8", "lm_onnx_export"}): "torchao's INT8 tensors do not export; compress the graph's "
                                                      "weights with matmul_nbits instead",
    frozenset({"lm_dynamic_int8", "torchao_int8_weight_only"}): "a model is quantized once",
    frozenset({"lm_dynamic_int8", "lm_bf16"}): "dynamic INT8 quantizes a float32 model",
    frozenset({"torchao_int8_weight_only", "lm_bf16"}): "INT8 weight-only quantizes a float32 model",
    frozenset({"matmul_nbits", "lm_openvino"}): "OpenVINO compresses its own weights: use nncf_weight_compression "
                                                "after lm_openvino",
}



def recipe_precision(recipe: list[dict]) -> str:
    """The precision a recipe's model computes in, from what its techniques declare (`Technique.precision`):
    INT8 if any step quantizes, else BF16 if any step casts to it, else FP32 (FP16 on a CPU computes in FP32)."""
    precisions = {TECHNIQUES.get(step["technique"]).precision for step in recipe}
    return next((p for p in ("int8", "bf16") if p in precisions), "fp32")


__all__ = ["TECHNIQUES", "CONFLICTS", "Technique", "BuildContext", "recipe_precision"]


def families(technique: Technique) -> frozenset[str]:
    """The families of model (a classifier's, a language model's: `Runtime.family`) `technique` applies to."""
    return frozenset(RUNTIMES.get(kind).family for kind in technique.accepts)


def family_techniques(family: str) -> list[str]:
    """The techniques of one family of model, in step order: what a model of that family can take."""
    return [name for name, technique in TECHNIQUES if family in families(technique)]
