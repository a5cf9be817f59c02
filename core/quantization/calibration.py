"""Calibration inputs as onnxruntime's quantizers read them."""
from __future__ import annotations

import numpy as np

from core.inputs import feeds


class CalibrationReader:
    """onnxruntime's CalibrationDataReader protocol over preprocessed inputs (images, or packed texts split into
    the graph's named inputs), in small batches."""

    def __init__(self, input_names: list[str], images: np.ndarray, report=lambda fraction: None,
                 max_batch: int = 16) -> None:
        # Equal batches: the histogram calibrators (Entropy, Percentile) stack them into one array.
        batch = max(d for d in range(1, max_batch + 1) if len(images) % d == 0)
        self._batches = [feeds(input_names, images[i:i + batch]) for i in range(0, len(images), batch)]
        self._next = 0
        self._report = report  # called per batch: progress, and where a cancel stops calibration

    def get_next(self):
        if self._next >= len(self._batches):
            return None
        self._report(self._next / len(self._batches))
        self._next += 1
        return self._batches[self._next - 1]

    def __iter__(self):
        return self

    def __next__(self):
        item = self.get_next()
        if item is None:
            raise StopIteration
        return item
