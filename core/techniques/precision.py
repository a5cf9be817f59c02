"""`fp16` and `bf16`: half-precision weights and activations, where the hardware runs them."""
from __future__ import annotations

from dataclasses import dataclass

from core.artifacts import Artifact, OnnxArtifact, TorchArtifact
from core.bench.env import cpu_info
from core.errors import RecipeError
from core.options import option
from core.techniques.base import CARRIED, BuildContext, Explored, ExportRule, Technique

BF16_ISA = ("avx512_bf16", "amx_bf16")


@dataclass(frozen=True)
class Fp16Config:
    keep_io_types: bool = option(True, "ONNX: keep float32 inputs and outputs (casts inside the graph)")


@dataclass(frozen=True)
class Bf16Config:
    """bf16 takes no options."""


def apply_fp16(artifact: Artifact, config: Fp16Config, ctx: BuildContext) -> Artifact:
    if artifact.kind == "onnx":
        import onnx
        from onnxruntime.transformers.float16 import convert_float_to_float16

        model = convert_float_to_float16(onnx.load_from_string(artifact.model_bytes),
                                         keep_io_types=config.keep_io_types)
        if ctx.device == "cpu":
            ctx.notes.append("fp16: the CPU execution provider runs FP16 graphs at FP32 speed (it inserts casts back "
                             "to FP32); the file is half the size")
        return OnnxArtifact(model.SerializeToString(), session=dict(artifact.session))
    return TorchArtifact(artifact.module.half(), artifact.channels_last)


def check_fp16(config: Fp16Config, kind, runtime) -> None:
    if kind == "torch" and runtime.device != "cuda":
        raise RecipeError("fp16 on a PyTorch model needs device cuda (CPU half-precision kernels are slow or "
                          "missing); add onnx_export before fp16, or use bf16 on a CPU with AVX512-BF16/AMX")


def apply_bf16(artifact: TorchArtifact, config: Bf16Config, ctx: BuildContext) -> TorchArtifact:
    import torch

    return TorchArtifact(artifact.module.to(torch.bfloat16), artifact.channels_last)


def check_bf16(config: Bf16Config, kind, runtime) -> None:
    if runtime.device == "cpu":
        isa = cpu_info()["isa"]
        if not any(flag in isa for flag in BF16_ISA):
            raise RecipeError(f"bf16 needs a CPU with AVX512-BF16 or AMX, or device cuda; this CPU "
                              f"({cpu_info()['cpu']}) has {', '.join(isa) or 'neither'}")


FP16 = Technique(
    name="fp16", summary="half precision: ONNX conversion (keep_io_types) or torch .half() on CUDA",
    config_cls=Fp16Config, accepts=frozenset({"torch", "onnx"}), apply=apply_fp16, check=check_fp16, precision="fp16",
    explore=Explored("quantize", starts=frozenset({"onnx"})),
    export=lambda kind: CARRIED if kind == "onnx" else ExportRule(
        "refused", "a half-precision PyTorch module has no faithful ONNX export here", ("fp16",)))
BF16 = Technique(
    name="bf16", summary="bfloat16 torch weights and activations (CPUs with AVX512-BF16/AMX, or CUDA)",
    config_cls=Bf16Config, accepts=frozenset({"torch"}), apply=apply_bf16, check=check_bf16, precision="bf16",
    export=lambda kind: ExportRule("refused", "onnxruntime has no bfloat16 convolution kernels, so a bf16 model has "
                                   "no ONNX form that runs", ("fp16",)))
