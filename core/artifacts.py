"""What a recipe produces: a torch module or an ONNX model, each measurable and runnable."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Literal

ArtifactKind = Literal["torch", "onnx"]


@dataclass
class TorchArtifact:
    """A torch module in eval mode plus how to feed it."""

    module: Any
    kind: ArtifactKind = "torch"

    def size_bytes(self) -> int:
        import torch

        buffer = io.BytesIO()
        torch.save(self.module.state_dict(), buffer)
        return buffer.tell()


@dataclass
class OnnxArtifact:
    """A serialized ONNX model (one self-contained protobuf) plus its session settings."""

    model_bytes: bytes
    session: dict[str, Any] = field(default_factory=dict)  # OrtSessionConfig fields set by the `ort` step
    kind: ArtifactKind = "onnx"

    def size_bytes(self) -> int:
        return len(self.model_bytes)


Artifact = TorchArtifact | OnnxArtifact
