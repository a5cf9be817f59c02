"""A language model's techniques (text generation): what its KV cache buys, the engines that run it (a static cache
under `torch.compile`; one ONNX graph with the cache in ONNX Runtime or as a stateful OpenVINO request) and its
weight formats (BF16; dynamic INT8; weight-only INT8 and INT4: torchao, ONNX Runtime's MatMulNBits, NNCF
`compress_weights`).
Each takes and gives the artifacts of `core/runtimes/language_models.py`; the classifiers' techniques take none of
them, nor these a classifier."""
from __future__ import annotations

import copy
from dataclasses import dataclass

from core.options import option
from core.runtimes.language_models import (
    CompiledLanguageModel,
    LanguageGraph,
    LanguageModel,
    OpenVINOLanguageModel,
)
from core.techniques.base import BuildContext, Explored, ExportRule, Technique
from core.techniques.precision import check_bf16

LM, COMPILED, GRAPH, OPENVINO = "lm", "lm-compiled", "lm-onnx", "lm-openvino"
STARTS = frozenset({LM})  # the default exploration offers these to a language model (a classifier starts elsewhere)
NOT_EXPORTED = ExportRule("refused", "its weights have no ONNX form here", instead=("matmul_nbits",))


@dataclass(frozen=True)
class NoOptions:
    """Takes no options."""


@dataclass(frozen=True)
class MatMulNBitsConfig:
    bits: int = option(4, "bits per weight", choices=(4, 8))
    block_size: int = option(32, "weights sharing one scale", choices=(16, 32, 64, 128))
    accuracy_level: int = option(4, "what the CPU kernel computes in: 4 quantizes activations to INT8 on the fly "
                                    "(its fast path), 0 keeps them float", choices=(0, 1, 2, 3, 4))


@dataclass(frozen=True)
class NncfWeightsConfig:
    mode: str = option("int4_sym", "weight format (NNCF CompressWeightsMode)",
                       choices=("int4_sym", "int4_asym", "int8_sym", "int8_asym"))
    group_size: int = option(32, "INT4: weights sharing one scale", choices=(32, 64, 128))


def _copy(artifact: LanguageModel) -> LanguageModel:
    return LanguageModel(copy.deepcopy(artifact.model), artifact.kv_cache)


def no_kv_cache(artifact: LanguageModel, config: NoOptions, ctx: BuildContext) -> LanguageModel:
    return LanguageModel(artifact.model, kv_cache=False)


def to_bf16(artifact: LanguageModel, config: NoOptions, ctx: BuildContext) -> LanguageModel:
    import torch

    copied = _copy(artifact)
    copied.model.to(torch.bfloat16)
    return copied


def _torchao(artifact: LanguageModel, ctx: BuildContext, name: str, quantizer: object, words: str) -> LanguageModel:
    """A copy of the model with every Linear quantized by a torchao config (GPT-2's Conv1D made Linear first)."""
    from torchao.quantization import quantize_

    from core.generation.weights import as_linear

    copied = _copy(artifact)
    swapped = as_linear(copied.model)
    quantize_(copied.model, quantizer)
    ctx.notes.append(f"{name}: {words} in every Linear"
                     + (f" ({swapped} GPT-2 Conv1D projections turned into Linear first)" if swapped else ""))
    return copied


def torchao_int8(artifact: LanguageModel, config: NoOptions, ctx: BuildContext) -> LanguageModel:
    from torchao.quantization import Int8WeightOnlyConfig

    return _torchao(artifact, ctx, "torchao_int8_weight_only", Int8WeightOnlyConfig(), "INT8 weights")


def dynamic_int8(artifact: LanguageModel, config: NoOptions, ctx: BuildContext) -> LanguageModel:
    from torchao.quantization import Int8DynamicActivationInt8WeightConfig

    return _torchao(artifact, ctx, "lm_dynamic_int8", Int8DynamicActivationInt8WeightConfig(),
                    "INT8 weights and activations quantized per call")


def static_cache_compile(artifact: LanguageModel, config: NoOptions, ctx: BuildContext) -> CompiledLanguageModel:
    return CompiledLanguageModel(copy.deepcopy(artifact.model))


def export_graph(artifact: LanguageModel, config: NoOptions, ctx: BuildContext) -> LanguageGraph:
    from core.generation.graphs import export_with_cache

    path = export_with_cache(artifact.model, ctx.work_dir / "lm.onnx")
    return LanguageGraph(path.read_bytes(), artifact.model.config)


def matmul_nbits(artifact: LanguageGraph, config: MatMulNBitsConfig, ctx: BuildContext) -> LanguageGraph:
    from core.generation import graphs

    source, target = ctx.work_dir / "lm-float.onnx", ctx.work_dir / f"lm-int{config.bits}.onnx"
    source.write_bytes(artifact.model_bytes)
    graphs.matmul_nbits(source, target, bits=config.bits, block_size=config.block_size,
                        accuracy_level=config.accuracy_level or None)
    ctx.notes.append(f"matmul_nbits: INT{config.bits} weights, one scale per {config.block_size}, round to nearest"
                     + (", INT8 compute" if config.accuracy_level == 4 else ""))
    return LanguageGraph(target.read_bytes(), artifact.config)


def to_openvino(artifact: LanguageGraph, config: NoOptions, ctx: BuildContext) -> OpenVINOLanguageModel:
    from core.generation.graphs import openvino_model, weight_bytes

    path = ctx.work_dir / "lm-openvino.onnx"
    path.write_bytes(artifact.model_bytes)
    model = openvino_model(path)
    return OpenVINOLanguageModel(model, artifact.config, weight_bytes(model))


def nncf_weights(artifact: OpenVINOLanguageModel, config: NncfWeightsConfig,
                 ctx: BuildContext) -> OpenVINOLanguageModel:
    from core.generation.graphs import nncf_compress, weight_bytes

    compressed = nncf_compress(artifact.model, config.mode, config.group_size)
    ctx.notes.append(f"nncf_weight_compression: {config.mode}" + (f", group {config.group_size}"
                                                                  if config.mode.startswith("int4") else ""))
    return OpenVINOLanguageModel(compressed, artifact.config, weight_bytes(compressed))


def matmul_nbits_caution(config: MatMulNBitsConfig) -> str | None:
    if config.accuracy_level == 4:
        return None
    return (f"matmul_nbits:accuracy_level={config.accuracy_level} keeps activations in float, so the CPU kernel "
            "dequantizes the weights at every call (INT8 weights ran 0.31x eager here, 2.08x with accuracy_level=4)")


NO_KV_CACHE = Technique(
    name="no_kv_cache", summary="generate without the KV cache: every step runs the whole sequence again (what the "
    "cache buys)", config_cls=NoOptions, accepts=frozenset({LM}), apply=no_kv_cache, lossless=lambda config: True,
    recommendable=False, export=lambda kind: ExportRule("runtime", note="the exported graph always keeps its cache"))
LM_BF16 = Technique(
    name="lm_bf16", summary="a language model's weights and activations in bfloat16 (eager PyTorch)",
    config_cls=NoOptions, accepts=frozenset({LM}), apply=to_bf16, check=check_bf16, precision="bf16",
    export=lambda kind: NOT_EXPORTED)
TORCHAO_INT8 = Technique(
    name="torchao_int8_weight_only", summary="torchao INT8 weight-only quantization of every Linear (eager PyTorch)",
    config_cls=NoOptions, accepts=frozenset({LM}), apply=torchao_int8, quantization="weight-only",
    export=lambda kind: NOT_EXPORTED, explore=Explored("quantize", starts=STARTS))
LM_DYNAMIC_INT8 = Technique(
    name="lm_dynamic_int8", summary="torchao dynamic INT8 of every Linear: INT8 weights, activations quantized at "
    "each call (eager PyTorch)", config_cls=NoOptions, accepts=frozenset({LM}), apply=dynamic_int8, precision="int8",
    quantization="dynamic", export=lambda kind: NOT_EXPORTED)
STATIC_CACHE_COMPILE = Technique(
    name="static_cache_compile", summary="torch.compile over a static KV cache (one graph for the prompt, one per "
    "step)",
    config_cls=NoOptions, accepts=frozenset({LM}), produces=COMPILED, apply=static_cache_compile,
    lossless=lambda config: True, explore=Explored("export", starts=STARTS),
    export=lambda kind: ExportRule("runtime", note="the file is the eager graph; torch.compile is not exported"))
LM_ONNX_EXPORT = Technique(
    name="lm_onnx_export", summary="export a language model as one ONNX graph with its KV cache as inputs and outputs, "
    "run by ONNX Runtime", config_cls=NoOptions, accepts=frozenset({LM}), produces=GRAPH, apply=export_graph,
    lossless=lambda config: True, explore=Explored("export", starts=STARTS))
MATMUL_NBITS = Technique(
    name="matmul_nbits", summary="ONNX Runtime weight-only INT4/INT8 (MatMulNBits, round to nearest)",
    config_cls=MatMulNBitsConfig, accepts=frozenset({GRAPH}), apply=matmul_nbits, caution=matmul_nbits_caution,
    quantization="weight-only", explore=Explored("quantize", ("matmul_nbits", "matmul_nbits:bits=8"), starts=STARTS))
LM_OPENVINO = Technique(
    name="lm_openvino", summary="run the exported graph in OpenVINO as a stateful request (the KV cache kept inside)",
    config_cls=NoOptions, accepts=frozenset({GRAPH}), produces=OPENVINO, apply=to_openvino, position="any",
    lossless=lambda config: True, explore=Explored("engine", starts=STARTS),
    export=lambda kind: ExportRule("runtime", note="the file is the ONNX graph; OpenVINO reads it"))
NNCF_WEIGHTS = Technique(
    name="nncf_weight_compression", summary="NNCF data-free weight compression for OpenVINO (INT8 or INT4)",
    config_cls=NncfWeightsConfig, accepts=frozenset({OPENVINO}), apply=nncf_weights, quantization="weight-only",
    explore=Explored("compress", ("nncf_weight_compression", "nncf_weight_compression:mode=int8_asym"), starts=STARTS),
    export=lambda kind: ExportRule("refused", "NNCF's compressed weights are OpenVINO's; ONNX Runtime's are "
                                              "matmul_nbits'", instead=("matmul_nbits",)))
TECHNIQUES = (NO_KV_CACHE, LM_BF16, TORCHAO_INT8, LM_DYNAMIC_INT8, STATIC_CACHE_COMPILE, LM_ONNX_EXPORT, MATMUL_NBITS,
              LM_OPENVINO, NNCF_WEIGHTS)
