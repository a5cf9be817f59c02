"""`torch_compile` and `channels_last`: graph compilation and memory layout for torch models."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.artifacts import CompiledArtifact, TorchArtifact, state_dict_bytes
from core.options import option
from core.techniques.base import BuildContext, ExportRule, Technique

MODES = ("default", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


@dataclass(frozen=True)
class TorchCompileConfig:
    mode: str = option("default", "torch.compile mode", choices=MODES)
    freezing: bool = option(True, "inductor freezing: fold weights into the graph as constants (inference only)")


@dataclass(frozen=True)
class ChannelsLastConfig:
    """channels_last takes no options."""


def compile_module(module, example, *, mode: str, freezing: bool):
    """A fresh compiled graph for `module`, warmed up at the example's shape under inference mode.

    dynamo caches graphs per code object, so a second model of the same class could silently reuse
    the first one's graph: reset first. Freezing is a global inductor switch: set it every time.
    """
    import torch
    import torch._dynamo
    import torch._inductor.config as inductor_config

    torch._dynamo.reset()
    inductor_config.freezing = freezing
    compiled = torch.compile(module, mode=mode, dynamic=False)
    with torch.inference_mode():  # the predictor runs under inference mode: compile under the same
        compiled(example)
    return compiled


def apply_compile(artifact: TorchArtifact, config: TorchCompileConfig, ctx: BuildContext) -> CompiledArtifact:
    import torch

    module = artifact.module.to(ctx.device).eval()
    example = torch.from_numpy(np.resize(ctx.example, (ctx.batch, *ctx.example.shape[1:])))
    dtype = next((p.dtype for p in module.parameters() if p.is_floating_point()), torch.float32)
    # a text model's token ids stay integers
    example = example.to(ctx.device, dtype) if example.is_floating_point() else example.to(ctx.device)
    if artifact.channels_last:
        example = example.contiguous(memory_format=torch.channels_last)
    ctx.progress("torch_compile", 0.1)
    compiled = compile_module(module, example, mode=config.mode, freezing=config.freezing)
    ctx.notes.append(f"torch_compile: mode={config.mode}, freezing={config.freezing}, compiled for batch {ctx.batch}")
    return CompiledArtifact(compiled, module, state_dict_bytes(module), artifact.channels_last)


def apply_channels_last(artifact: TorchArtifact, config: ChannelsLastConfig, ctx: BuildContext) -> TorchArtifact:
    import torch

    return TorchArtifact(artifact.module.to(memory_format=torch.channels_last), channels_last=True)


TORCH_COMPILE = Technique(
    name="torch_compile", summary="torch.compile (inductor), a fresh graph per variant",
    config_cls=TorchCompileConfig, accepts=frozenset({"torch"}), produces="compiled", apply=apply_compile,
    lossless=lambda config: True,
    export=lambda kind: ExportRule("runtime", "torch_compile is a PyTorch runtime choice: the ONNX file holds the same "
                                   "model uncompiled, and its speed in onnxruntime is not this run's"))
CHANNELS_LAST = Technique(
    name="channels_last", summary="NHWC memory layout for convolutions (weights and inputs)",
    config_cls=ChannelsLastConfig, accepts=frozenset({"torch"}), apply=apply_channels_last,
    lossless=lambda config: True,
    export=lambda kind: ExportRule("runtime", "channels_last is a PyTorch memory layout: the ONNX file holds the "
                                   "same model in ONNX's own layout, and its speed in onnxruntime is not this run's"))
