"""Accuracy and fidelity from logits, each with its sample count and a 95% Wilson interval."""
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


def top_k(logits: np.ndarray, labels: np.ndarray, k: int) -> Proportion:
    """Share of rows whose label is among the k highest logits."""
    k = min(k, logits.shape[1])
    best = np.argpartition(-logits, k - 1, axis=1)[:, :k]
    hits = int((best == labels[:, None]).any(axis=1).sum())
    return wilson(hits, len(labels))


@dataclass(frozen=True)
class Fidelity:
    agreement: Proportion        # top-1 equal to the FP32 reference's top-1
    logit_cosine: float          # mean cosine similarity of logits with the reference


def fidelity(logits: np.ndarray, reference: np.ndarray) -> Fidelity:
    """How closely `logits` follow the FP32 reference on the same inputs."""
    same = int((logits.argmax(1) == reference.argmax(1)).sum())
    a = logits.astype(np.float64)
    b = reference.astype(np.float64)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    cos = np.where(norms > 0, (a * b).sum(axis=1) / np.where(norms > 0, norms, 1), 1.0)
    return Fidelity(wilson(same, len(logits)), float(cos.mean()))
