"""What a recipe produces: a torch module, a compiled torch module, or an ONNX model.

The kinds and their words are registered by their runtimes (`core.runtimes`); a new runtime may bring
its own artifact class (any object with a `kind`, `size_bytes()` and `response_cache`).
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

# A registered runtime's kind: "torch", "compiled", "onnx" (see core/runtimes/).
ArtifactKind = str


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
