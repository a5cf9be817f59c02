"""Accuracy and fidelity from logits, each with its sample count and a 95% Wilson interval.

One rule for ties, wherever InferScope takes a prediction (top-1, top-5, agreement, flips, export
verification, diagnosis): classes are ranked by logit, highest first, and equal logits by class index,
lowest first — numpy's `argmax`. An INT8 model often has exactly tied top logits (resnet8: 45 of the
10,000 test images), so a second rule anywhere would make one run show two top-1 figures.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Proportion:
    """A measured percentage with its 95% Wilson score interval."""

    percent: float
    ci_low: float
    ci_high: float
    count: int


def wilson(successes: int, total: int, z: float = Z95) -> Proportion:
    """Wilson score interval, in percent (well-behaved at 0% and 100%, unlike the normal one)."""
    if total <= 0:
        raise ValueError("no samples")
    p = successes / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return Proportion(100 * p, 100 * max(0.0, centre - half), 100 * min(1.0, centre + half), total)


def predicted(logits: np.ndarray) -> np.ndarray:
    """Each row's top-1 class; of tied logits the lowest class index (the module's tie rule)."""
    return np.asarray(logits).argmax(axis=1)


def ranked(logits: np.ndarray, k: int) -> np.ndarray:
    """Each row's k best classes, best first, ties broken as `predicted` breaks them (column 0 is `predicted`)."""
    k = min(k, logits.shape[1])
    return np.argsort(-np.asarray(logits), axis=1, kind="stable")[:, :k]


def top_k(logits: np.ndarray, labels: np.ndarray, k: int) -> Proportion:
    """Share of rows whose label is among the k best classes (`ranked`)."""
    hits = int((ranked(logits, k) == labels[:, None]).any(axis=1).sum())
    return wilson(hits, len(labels))


@dataclass(frozen=True)
class Fidelity:
    agreement: Proportion        # top-1 equal to the FP32 reference's top-1
    logit_cosine: float          # mean cosine similarity of logits with the reference


def fidelity(logits: np.ndarray, reference: np.ndarray) -> Fidelity:
    """How closely `logits` follow the FP32 reference on the same inputs."""
    same = int((predicted(logits) == predicted(reference)).sum())
    a = logits.astype(np.float64)
    b = reference.astype(np.float64)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    cos = np.where(norms > 0, (a * b).sum(axis=1) / np.where(norms > 0, norms, 1), 1.0)
    return Fidelity(wilson(same, len(logits)), float(cos.mean()))
