"""Technique registry: each technique module registers itself here by name."""
from __future__ import annotations

from core.registry import Registry
from core.techniques import fp32, onnx_export, ort, ort_static_int8
from core.techniques.base import BuildContext, Technique

TECHNIQUES: Registry[Technique] = Registry("technique")
# Registration order is the canonical step order the Run page uses.
for _module in (fp32, onnx_export, ort_static_int8, ort):
    TECHNIQUES.register(_module.TECHNIQUE.name, _module.TECHNIQUE)

__all__ = ["TECHNIQUES", "Technique", "BuildContext"]
