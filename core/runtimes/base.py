"""A predictor runs one artifact on one device with fixed threads."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


class Predictor(Protocol):
    engine: str                      # e.g. "torch-eager", "onnxruntime"
    provider: str                    # device or execution provider actually used
    settings: dict[str, Any]         # threads and other knobs, recorded on the run

    def prepare(self, batch: np.ndarray) -> Any:
        """Convert a float32 NCHW batch to the predictor's native input (done outside timing)."""

    def run(self, native: Any) -> Any:
        """One inference call; returns when the result is ready (synchronized on GPUs)."""

    def to_numpy(self, output: Any) -> np.ndarray:
        """Logits as float32 numpy."""


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
