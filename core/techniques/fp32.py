"""`fp32`: the untransformed model, the baseline every other run is compared with."""
from __future__ import annotations

from dataclasses import dataclass

from core.artifacts import Artifact
from core.techniques.base import BuildContext, Technique


@dataclass(frozen=True)
class Fp32Config:
    """The baseline takes no options."""


def apply(artifact: Artifact, config: Fp32Config, ctx: BuildContext) -> Artifact:
    return artifact


TECHNIQUE = Technique(
    name="fp32", summary="FP32 baseline: eager PyTorch for torch models (a language model with its KV cache), "
    "onnxruntime for ONNX files",
    config_cls=Fp32Config, accepts=frozenset({"torch", "onnx", "lm"}), apply=apply, position="alone",
    lossless=lambda config: True)
