"""Scoring an ONNX candidate while a step decides (accuracy-aware INT8, NNCF's accuracy control)."""
from __future__ import annotations

import numpy as np

from core.inputs import feeds


def cpu_session(model_bytes: bytes):
    """A plain CPU onnxruntime session, for scoring candidates while a step decides (not for timing)."""
    import onnxruntime as ort

    return ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])


def call_batch(model_bytes: bytes, batch: int) -> int:
    """Images per call: the model's fixed batch, else the run's."""
    fixed = cpu_session(model_bytes).get_inputs()[0].shape[0]
    return fixed if isinstance(fixed, int) and fixed > 0 else max(1, batch)


def onnx_logits(model_bytes: bytes, images: np.ndarray, batch: int) -> np.ndarray:
    """Logits of `images` in calls of `batch` images."""
    session = cpu_session(model_bytes)
    names = [i.name for i in session.get_inputs()]
    return np.concatenate([session.run(None, feeds(names, images[start:start + batch]))[0]
                           for start in range(0, len(images), batch)])
