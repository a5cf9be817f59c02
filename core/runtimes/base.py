"""A predictor runs one artifact on one device with fixed threads."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


class Predictor(Protocol):
    engine: str                      # e.g. "torch-eager", "onnxruntime"
    provider: str                    # device or execution provider actually used
    settings: dict[str, Any]         # threads and other knobs, recorded on the run
    notes: tuple[str, ...]           # what the device did not honour, stored on the run

    def prepare(self, batch: np.ndarray) -> Any:
        """Convert a float32 NCHW batch to the predictor's native input (done outside timing)."""

    def run(self, native: Any) -> Any:
        """One inference call; returns when the result is ready (synchronized on GPUs)."""

    def to_numpy(self, output: Any) -> np.ndarray:
        """Logits as float32 numpy."""


def default_threads() -> int:
    """All cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


# What a profiler saw: (node, operator type, µs, precision) of every operator run; precision is one of
# "int8", "float", "conversion" (quantize/dequantize/cast left unfused) or "layout" (data movement).
Events = list[tuple[str, str, float, str]]


@dataclass(frozen=True)
class Runtime:
    """One artifact kind and what runs it. The kind's whole vocabulary lives in its runtime module and
    is registered in `core.runtimes`: recipes, planning, the export plan and the environment
    fingerprint read it from there."""

    kind: str                           # the artifact kind a technique accepts and produces
    words: str                          # how messages name a model of this kind: "an ONNX"
    predictor: Callable[..., Predictor]  # (artifact, RuntimeSettings, threads) -> Predictor
    libraries: tuple[str, ...] = ()     # package versions recorded in every run's environment
    fingerprint_libraries: tuple[str, ...] = ()  # those whose version changes timings (in the fingerprint)
    check: Callable[[Any], None] = lambda runtime: None  # RecipeError before any work if the settings cannot run
    # What an ONNX export writes for an artifact of this kind: an ONNX artifact, or a torch one to export.
    exported: Callable[[Any], Any] = lambda artifact: artifact
    # The written file's bytes and the run's artifact -> an artifact that runs the file as the run was measured
    # (its runtime and settings), to verify the export. By default onnxruntime with the run's session settings.
    reopen: Callable[[bytes, Any], Any] = lambda data, artifact: _onnx_in_onnxruntime(data, artifact)
    engine: str = ""                    # the engine its runs record ("onnxruntime"), as messages name it
    # Its own profiler, for a profile of where a run's time goes (core/diagnose/profile.py): (prepared run,
    # batches, calls, progress) -> (events, wall ms per call); None: its runs cannot be profiled.
    profiler: Callable[..., tuple[Events, float]] | None = None
    # A language model's kinds (core/runtimes/language_models.py): (artifact, RuntimeSettings, threads) -> the decoder
    # that generates with it (core.generation.decoding.Decoder); None for a classifier's kinds.
    decoder: Callable[..., Any] | None = None
    family: str = "classifier"          # which techniques apply: a classifier's or a language model's
    # A language model's: whether one instance generates for several streams at once (its cache lives in each call);
    # False where an instance holds one generation's state (a stateful request, a static cache)
    shares_generations: bool = True


def _onnx_in_onnxruntime(data: bytes, artifact: Any) -> Any:
    from core.artifacts import OnnxArtifact

    return OnnxArtifact(data, session=dict(getattr(artifact, "session", {}) or {}))
