"""Predictors by artifact kind."""
from __future__ import annotations

import os

from core.artifacts import Artifact
from core.recipe import RuntimeSettings
from core.registry import Registry
from core.runtimes.base import Predictor
from core.runtimes.cache import CachedPredictor, ResponseCache
from core.runtimes.ort_runtime import OrtPredictor
from core.runtimes.torch_runtime import TorchPredictor

PREDICTORS: Registry[type] = Registry("runtime")
PREDICTORS.register("torch", TorchPredictor)
PREDICTORS.register("compiled", TorchPredictor)
PREDICTORS.register("onnx", OrtPredictor)


def default_threads() -> int:
    """All cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def make_predictor(artifact: Artifact, runtime: RuntimeSettings, cache: ResponseCache | None = None) -> Predictor:
    """A predictor for `artifact` with the run's device and threads.

    When the recipe has a `cache` step the predictor answers repeated inputs from a response cache;
    pass `cache` to share one cache between several predictors (sessions) of the same run.
    """
    predictor = PREDICTORS.get(artifact.kind)(artifact, runtime, runtime.threads or default_threads())
    if artifact.response_cache is None:
        return predictor
    return CachedPredictor(predictor, cache or ResponseCache(artifact.response_cache["capacity"]))


__all__ = ["Predictor", "CachedPredictor", "ResponseCache", "make_predictor", "default_threads"]
