"""Runtimes by artifact kind: a new runtime is one module (its `Runtime` entry) and one line here."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from core.artifacts import Artifact
from core.registry import Registry
from core.runtimes import language_models
from core.runtimes.base import Predictor, Runtime, default_threads
from core.runtimes.cache import CachedPredictor, ResponseCache
from core.runtimes.openvino_runtime import OPENVINO_RUNTIME
from core.runtimes.ort_runtime import ONNX_RUNTIME
from core.runtimes.settings import RuntimeSettings
from core.runtimes.torch_runtime import COMPILED_RUNTIME, TORCH_RUNTIME

RUNTIMES: Registry[Runtime] = Registry("runtime")
for _runtime in (TORCH_RUNTIME, COMPILED_RUNTIME, ONNX_RUNTIME, OPENVINO_RUNTIME, *language_models.ENTRIES):
    RUNTIMES.register(_runtime.kind, _runtime)


def make_predictor(artifact: Artifact, runtime: RuntimeSettings, cache: ResponseCache | None = None,
                   shape: Callable[[np.ndarray], np.ndarray] | None = None) -> Predictor:
    """A predictor for `artifact` with the run's device and threads.

    When the recipe has a `cache` step the predictor answers repeated inputs from a response cache;
    pass `cache` to share one cache between several predictors (sessions) of the same run. `shape` fits each
    call's batch before it is prepared (the model's input spec `fit`: a text model's dynamic padding).
    """
    predictor = RUNTIMES.get(artifact.kind).predictor(artifact, runtime, runtime.threads or default_threads())
    if shape is not None:
        predictor = ShapedPredictor(predictor, shape)
    if artifact.response_cache is None:
        return predictor
    return CachedPredictor(predictor, cache or ResponseCache(artifact.response_cache["capacity"]))


def check_runtime(kind: str, runtime: RuntimeSettings) -> None:
    """Refuse runtime settings the final artifact's runtime cannot honour (e.g. a missing provider)."""
    RUNTIMES.get(kind).check(runtime)


def recorded_libraries() -> tuple[str, ...]:
    """Every runtime's libraries, for the environment; and those that count in the fingerprint."""
    return tuple(dict.fromkeys(lib for _, r in RUNTIMES for lib in r.libraries))


def fingerprint_libraries() -> tuple[str, ...]:
    return tuple(dict.fromkeys(lib for _, r in RUNTIMES for lib in r.fingerprint_libraries))


__all__ = ["Predictor", "CachedPredictor", "ResponseCache", "RUNTIMES", "Runtime", "make_predictor",
           "default_threads", "check_runtime", "recorded_libraries", "fingerprint_libraries"]


class ShapedPredictor:
    """Wraps a predictor: each call's batch is fitted first (cut to its longest text under dynamic padding), in
    `prepare`, so outside the timed call — as a server pads a batch before it calls the model."""

    def __init__(self, inner: Predictor, shape: Callable[[np.ndarray], np.ndarray]) -> None:
        self.inner, self.shape = inner, shape
        self.engine, self.provider, self.notes = inner.engine, inner.provider, inner.notes
        self.settings = inner.settings

    def prepare(self, batch: np.ndarray) -> Any:
        return self.inner.prepare(self.shape(batch))

    def run(self, native: Any) -> Any:
        return self.inner.run(native)

    def to_numpy(self, output: Any) -> np.ndarray:
        return self.inner.to_numpy(output)
