"""Dynamic INT8: weights quantized ahead of time, activations at run time (torchao and onnxruntime)."""
from __future__ import annotations

from dataclasses import dataclass

from core.artifacts import OnnxArtifact, TorchArtifact
from core.errors import InferScopeError
from core.options import option
from core.quantization.keep_float import KEEP_FLOAT_HELP, kept_nodes, kept_words
from core.techniques.base import BuildContext, Explored, ExportRule, Technique

ORT_OP_SETS = {"MatMul/Gemm": ["MatMul", "Gemm"], "all": ["MatMul", "Gemm", "Conv"]}


@dataclass(frozen=True)
class TorchDynamicInt8Config:
    """Quantizes every nn.Linear (torchao Int8DynamicActivationInt8WeightConfig)."""


@dataclass(frozen=True)
class OrtDynamicInt8Config:
    op_types: str = option("MatMul/Gemm", "operators to quantize; Conv becomes ConvInteger, which is slow on CPUs",
                           choices=tuple(ORT_OP_SETS))
    per_channel: bool = option(False, "one weight scale per output channel")
    keep_float: tuple[str, ...] | None = option(None, KEEP_FLOAT_HELP)


def apply_torch(artifact: TorchArtifact, config: TorchDynamicInt8Config, ctx: BuildContext) -> TorchArtifact:
    from torch import nn
    from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_

    linears = sum(isinstance(m, nn.Linear) for m in artifact.module.modules())
    if not linears:
        raise InferScopeError("torch_dynamic_int8 quantizes nn.Linear layers and this model has none")
    quantize_(artifact.module, Int8DynamicActivationInt8WeightConfig())
    convs = sum(isinstance(m, nn.Conv2d) for m in artifact.module.modules())
    ctx.notes.append(f"torch_dynamic_int8: {linears} Linear layer(s) quantized"
                     + (f"; {convs} convolution(s) stay FP32, so a conv-heavy model gains little" if convs else ""))
    return TorchArtifact(artifact.module, artifact.channels_last)


def apply_ort(artifact: OnnxArtifact, config: OrtDynamicInt8Config, ctx: BuildContext) -> OnnxArtifact:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    source, target = ctx.work_dir / "float.onnx", ctx.work_dir / "dynamic-int8.onnx"
    source.write_bytes(artifact.model_bytes)
    graph = onnx.load_from_string(artifact.model_bytes).graph
    ops = [n.op_type for n in graph.node]
    wanted = ORT_OP_SETS[config.op_types]
    if not any(op in wanted for op in ops):
        raise InferScopeError(f"ort_dynamic_int8: the model has no {'/'.join(wanted)} operator to quantize")
    kept = kept_nodes("ort_dynamic_int8", config.keep_float, graph)
    in_float = tuple(n.name for n in graph.node if n.op_type in wanted and n.name in kept)
    if sum(op in wanted for op in ops) == len(in_float):
        raise InferScopeError(f"ort_dynamic_int8: keep_float {'/'.join(config.keep_float or ())} keeps every "
                              f"{'/'.join(wanted)} in float, so nothing would be quantized")
    # A graph fused by transformer_optimize has operators of onnxruntime's own domain, whose outputs ONNX's shape
    # inference cannot type: their tensors are float, as the quantizer is told.
    quantize_dynamic(str(source), str(target), op_types_to_quantize=wanted, per_channel=config.per_channel,
                     weight_type=QuantType.QInt8, nodes_to_exclude=list(kept),
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    convs, matmuls = ops.count("Conv"), ops.count("MatMul") + ops.count("Gemm")
    if kept:
        ctx.notes.append(f"ort_dynamic_int8: {'/'.join(wanted)} quantized{kept_words(config.keep_float, in_float)}")
    if convs and "Conv" not in wanted:
        ctx.notes.append(f"ort_dynamic_int8: the model is convolution-heavy ({convs} Conv vs {matmuls} MatMul/Gemm); "
                         "convolutions stay FP32, so expect little or no speedup — static INT8 suits CNNs")
    elif convs:
        ctx.notes.append("ort_dynamic_int8: Conv became ConvInteger, which onnxruntime runs slower than FP32 on "
                         "CPUs; expect a slowdown — static INT8 suits CNNs")
    return OnnxArtifact(target.read_bytes(), session=dict(artifact.session))


TORCH_DYNAMIC = Technique(
    name="torch_dynamic_int8", summary="torchao dynamic INT8 of Linear layers (weights INT8, activations at run time)",
    config_cls=TorchDynamicInt8Config, accepts=frozenset({"torch"}), apply=apply_torch, precision="int8",
    quantization="dynamic", explore=Explored("quantize", starts=frozenset({"torch"})),
    export=lambda kind: ExportRule("refused", "torchao's quantized Linear tensors have no ONNX export here",
                                   ("ort_dynamic_int8",)))
ORT_DYNAMIC = Technique(
    name="ort_dynamic_int8", summary="onnxruntime dynamic INT8, MatMul/Gemm by default (no calibration)",
    config_cls=OrtDynamicInt8Config, accepts=frozenset({"onnx"}), apply=apply_ort, precision="int8",
    quantization="dynamic", keep_float="keep_float", explore=Explored(
        "quantize", extra=(("text", ("ort_dynamic_int8:keep_float=@attention",)),)))  # text: quantize only the FFN
