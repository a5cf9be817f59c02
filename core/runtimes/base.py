"""A predictor runs one artifact on one device with fixed threads."""
from __future__ import annotations

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
