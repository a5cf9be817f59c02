"""`pt2e_static_int8`: PyTorch static INT8 via torchao's PT2E flow, x86 inductor quantizer, compiled with freezing."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.artifacts import CompiledArtifact, TorchArtifact, state_dict_bytes
from core.errors import RecipeError
from core.options import option
from core.techniques.base import BuildContext, ExportRule, Technique
from core.techniques.compile import compile_module


@dataclass(frozen=True)
class Pt2eStaticInt8Config:
    calibration_size: int = option(200, "calibration images, from a split disjoint from the subset",
                                   minimum=1, maximum=100_000)


def apply(artifact: TorchArtifact, config: Pt2eStaticInt8Config, ctx: BuildContext) -> CompiledArtifact:
    import torch
    import torchao.quantization.pt2e.quantizer.x86_inductor_quantizer as xiq
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    module = artifact.module.eval()
    example = torch.from_numpy(np.resize(ctx.example, (ctx.batch, *ctx.example.shape[1:])))
    # strict=True: torchvision ResNets reuse one nn.ReLU at several call sites, which the
    # non-strict trace turns into a partition with several outputs that the quantizer rejects.
    exported = torch.export.export(module, (example,), strict=True).module()
    quantizer = xiq.X86InductorQuantizer()
    quantizer.set_global(xiq.get_default_x86_inductor_quantization_config())  # per-channel weights, U8 activations
    prepared = prepare_pt2e(exported, quantizer)
    images = ctx.calibration(config.calibration_size)
    with torch.no_grad():
        for start in range(0, len(images), ctx.batch):
            chunk = np.resize(images[start:start + ctx.batch], (ctx.batch, *images.shape[1:]))
            prepared(torch.from_numpy(chunk))
            ctx.progress("pt2e_static_int8", 0.1 + 0.5 * min(1.0, (start + ctx.batch) / len(images)))
    converted = convert_pt2e(prepared)
    size = state_dict_bytes(converted)
    # Uncompiled, the converted graph is 2-4x slower than FP32: it only pays off compiled with freezing.
    compiled = compile_module(converted, example, mode="default", freezing=True)
    ctx.notes.append(f"pt2e_static_int8: calibrated on {len(images)} images, compiled with inductor freezing "
                     f"for batch {ctx.batch}")
    return CompiledArtifact(compiled, converted, size, artifact.channels_last)


def check(config: Pt2eStaticInt8Config, kind, runtime) -> None:
    if runtime.device != "cpu":
        raise RecipeError("pt2e_static_int8 uses the x86 inductor quantizer, which targets CPUs; use device cpu")


TECHNIQUE = Technique(
    name="pt2e_static_int8", summary="PyTorch static INT8 (torchao PT2E, x86 inductor) + torch.compile with freezing",
    config_cls=Pt2eStaticInt8Config, accepts=frozenset({"torch"}), produces="compiled", apply=apply, check=check,
    calibration_size=lambda config: config.calibration_size, precision="int8", quantization="static",
    export=lambda kind: ExportRule("refused", "a PT2E INT8 model is an inductor-compiled graph with no ONNX export "
                                   "here", ("ort_static_int8",)))
