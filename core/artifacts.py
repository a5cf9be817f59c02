"""What a recipe produces: a torch module, a compiled torch module, or an ONNX model."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Literal

# torch: an eager module that later steps may transform or export.
# compiled: a torch.compile'd module: it runs, but nothing can transform or export it any more.
# onnx: one serialized ONNX model plus its session settings.
ArtifactKind = Literal["torch", "compiled", "onnx"]


def state_dict_bytes(module: Any) -> int:
    """Serialized size of a module's weights (what `torch.save(state_dict)` writes)."""
    import torch

    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    return buffer.tell()


@dataclass
class TorchArtifact:
    """A torch module in eval mode plus how to feed it."""

    module: Any
    channels_last: bool = False
    response_cache: dict[str, Any] | None = None  # CacheConfig fields set by the `cache` step
    kind: ArtifactKind = "torch"

    def size_bytes(self) -> int:
        return state_dict_bytes(self.module)


@dataclass
class CompiledArtifact:
    """A compiled callable; `source` is the module it was compiled from (for dtype and size)."""

    module: Any
    source: Any
    size: int
    channels_last: bool = False
    response_cache: dict[str, Any] | None = None
    kind: ArtifactKind = "compiled"

    def size_bytes(self) -> int:
        return self.size


@dataclass
class OnnxArtifact:
    """A serialized ONNX model (one self-contained protobuf) plus its session settings."""

    model_bytes: bytes
    session: dict[str, Any] = field(default_factory=dict)  # OrtConfig fields set by the `ort` step
    response_cache: dict[str, Any] | None = None
    kind: ArtifactKind = "onnx"

    def size_bytes(self) -> int:
        return len(self.model_bytes)


Artifact = TorchArtifact | CompiledArtifact | OnnxArtifact
