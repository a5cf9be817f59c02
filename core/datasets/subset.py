"""Seeded, stratified subsets, and a calibration sample disjoint from them."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.datasets.base import ImageSplit, LoadedDataset
from core.errors import DataError


def stratified_indices(labels: np.ndarray | None, count: int, size: int, seed: int,
                       exclude: np.ndarray | None = None, item: str = "image") -> np.ndarray:
    """Pick `size` of `count` items, seeded; each label keeps its share (largest remainder).

    Items in `exclude` are never picked. With no labels the pick is a plain seeded sample.
    Returns sorted indices.
    """
    available = np.ones(count, dtype=bool)
    if exclude is not None and len(exclude):
        available[np.asarray(exclude)] = False
    pool = np.flatnonzero(available)
    if size < 1:
        raise DataError(f"subset size must be at least 1; got {size}")
    if size > len(pool):
        raise DataError(f"subset size {size} is larger than the {len(pool)} {item}s available; "
                        f"choose at most {len(pool)}")
    rng = np.random.default_rng(seed)
    if labels is None:
        return np.sort(rng.choice(pool, size=size, replace=False))
    pool_labels = np.asarray(labels)[pool]
    classes, counts = np.unique(pool_labels, return_counts=True)
    exact = counts * size / len(pool)
    take = np.floor(exact).astype(int)
    # Largest remainder first; ties broken by a seeded shuffle so no class is always favoured.
    order = rng.permutation(len(classes))
    order = order[np.argsort(-(exact - take)[order], kind="stable")]
    take[order[: size - take.sum()]] += 1
    picked = [rng.choice(pool[pool_labels == c], size=k, replace=False) for c, k in zip(classes, take) if k]
    return np.sort(np.concatenate(picked))


@dataclass(frozen=True)
class Subset:
    """The evaluation subset and where calibration images come from, as stored on a run."""

    split: ImageSplit
    indices: np.ndarray
    seed: int

    @property
    def labels(self) -> np.ndarray | None:
        return None if self.split.labels is None else np.asarray(self.split.labels)[self.indices]


def evaluation_subset(dataset: LoadedDataset, size: int, seed: int) -> Subset:
    """The run's seeded, stratified evaluation subset."""
    split = dataset.evaluation
    return Subset(split, stratified_indices(split.labels, len(split), size, seed, item=item_of(split)), seed)


def item_of(split: ImageSplit) -> str:
    """What one item of a split is called: a text split says "text"; every image split is one of images."""
    return getattr(split, "item", "image")


def calibration_subset(dataset: LoadedDataset, evaluation: Subset, size: int, seed: int) -> Subset:
    """Calibration images, disjoint from the evaluation subset (a different split when one exists)."""
    split = dataset.calibration
    exclude = evaluation.indices if split is evaluation.split else None
    available = len(split) - (len(exclude) if exclude is not None else 0)
    if size > available:
        raise DataError(f"calibration size {size} is larger than the {available} {item_of(split)}s of the "
                        f"{split.name!r} split left for calibration; choose at most {available}")
    return Subset(split, stratified_indices(split.labels, len(split), size, seed + 1, exclude, item_of(split)),
                  seed + 1)


def validation_subset(dataset: LoadedDataset, evaluation: Subset, calibration_size: int, size: int,
                      seed: int) -> Subset:
    """Images that decide an accuracy-aware technique's choices: from the calibration split, disjoint from
    the calibration images and from the evaluation subset, so the run's reported accuracy is not the one
    its choices were fitted to."""
    split = dataset.calibration
    taken = [calibration_subset(dataset, evaluation, calibration_size, seed).indices] if calibration_size else []
    if split is evaluation.split:
        taken.append(evaluation.indices)
    exclude = np.concatenate(taken) if taken else None
    available = len(split) - (len(np.unique(exclude)) if exclude is not None else 0)
    if size > available:
        raise DataError(f"validation size {size} is larger than the {available} {item_of(split)}s of the "
                        f"{split.name!r} split left after calibration and the subset; choose at most {available}")
    return Subset(split, stratified_indices(split.labels, len(split), size, seed + 2, exclude, item_of(split)),
                  seed + 2)


def calibration_split_name(dataset: LoadedDataset) -> str:
    """How the run records where calibration images came from."""
    if dataset.calibration is dataset.evaluation:
        return f"{dataset.calibration.name} (disjoint from the subset)"
    return dataset.calibration.name
