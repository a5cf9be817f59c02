"""A quantizer from outside the tree: one `Technique` entry that says what it does (INT8, dynamic, offered on the
quantize axis). Underneath it is onnxruntime's dynamic INT8 of MatMul/Gemm, so its runs are real."""
from __future__ import annotations

from dataclasses import dataclass

from core.artifacts import OnnxArtifact
from core.techniques.base import BuildContext, Explored, Technique
from core.techniques.dynamic_int8 import OrtDynamicInt8Config, apply_ort


@dataclass(frozen=True)
class FakeInt8Config:
    """It has no options."""


def apply(artifact: OnnxArtifact, config: FakeInt8Config, ctx: BuildContext) -> OnnxArtifact:
    return apply_ort(artifact, OrtDynamicInt8Config(), ctx)


TECHNIQUE = Technique(name="fake_int8", summary="a quantizer registered from outside the tree (tests)",
                      config_cls=FakeInt8Config, accepts=frozenset({"onnx"}), apply=apply, precision="int8",
                      quantization="dynamic", explore=Explored("quantize"))
