"""A runtime from outside the tree: its artifact kind, its predictor, its profiler, and the technique that hands a
model to it — one module, like core/runtimes/openvino_runtime.py with core/techniques/openvino.py. Underneath it is
an onnxruntime session, so its runs are real; its profiler reports the whole graph as one INT8 operator."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from core.artifacts import ArtifactKind, OnnxArtifact
from core.progress import Progress
from core.runtimes.base import Events, Runtime
from core.runtimes.ort_runtime import OrtPredictor
from core.runtimes.settings import RuntimeSettings
from core.techniques.base import Technique

KIND = "fakert"


@dataclass
class FakeArtifact:
    model_bytes: bytes
    response_cache: dict[str, Any] | None = None
    kind: ArtifactKind = KIND

    def size_bytes(self) -> int:
        return len(self.model_bytes)


def predictor(artifact: FakeArtifact, runtime: RuntimeSettings, threads: int) -> OrtPredictor:
    engine = OrtPredictor(OnnxArtifact(artifact.model_bytes), runtime, threads)
    engine.engine = "fake-engine"
    return engine


def profile(prepared, batches, calls: int, progress: Progress) -> tuple[Events, float]:
    engine = predictor(prepared.artifact, prepared.recipe.runtime, 1)
    natives = [engine.prepare(batch) for batch in batches]
    start = time.perf_counter()
    for k in range(calls):
        engine.run(natives[k % len(natives)])
    wall_ms = (time.perf_counter() - start) * 1000.0 / calls
    return [("graph", "FakeFusedOp", wall_ms * 1000.0 * calls, "int8")], wall_ms


RUNTIME = Runtime(KIND, "a fake-runtime", predictor, engine="fake-engine", profiler=profile)


@dataclass(frozen=True)
class FakeRuntimeConfig:
    """It has no options."""


TECHNIQUE = Technique(name="fakert", summary="run in the fake runtime (tests)", config_cls=FakeRuntimeConfig,
                      accepts=frozenset({"onnx"}), produces=KIND, position="last",
                      apply=lambda artifact, config, ctx: FakeArtifact(artifact.model_bytes))
