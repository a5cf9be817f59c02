"""Dataset vocabulary: a split of labelled images (or texts: core/datasets/text.py) and a loaded dataset with its
splits."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from core.errors import DataError
from core.inputs import InputSpec
from core.settings import Settings


class ImageSplit(Protocol):
    """One split: `len()` images addressable by index, with labels (None when unlabelled)."""

    name: str
    labels: np.ndarray | None

    def __len__(self) -> int: ...

    def images(self, indices: np.ndarray) -> list[np.ndarray]:
        """uint8 images (HxW or HxWxC) for `indices`."""
        ...


@dataclass
class ArraySplit:
    """A split held in memory as one uint8 array (N,H,W[,C])."""

    name: str
    pixels: np.ndarray
    labels: np.ndarray | None

    def __len__(self) -> int:
        return len(self.pixels)

    def images(self, indices: np.ndarray) -> list[np.ndarray]:
        return list(self.pixels[np.asarray(indices)])


@dataclass
class LoadedDataset:
    """A dataset ready to sample from.

    `calibration` may be the same object as `evaluation`; subsets then keep the two disjoint.
    `label_space` names the label vocabulary ("fashion-mnist", "imagenet-1k"); None = no labels.
    """

    name: str
    location: str | None
    label_space: str | None
    class_names: tuple[str, ...]
    evaluation: ImageSplit
    calibration: ImageSplit
    train: ImageSplit | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def has_labels(self) -> bool:
        return self.label_space is not None


@dataclass(frozen=True)
class DatasetEntry:
    """A registered dataset source."""

    name: str
    description: str
    needs_location: bool
    label_space: str | None
    load: Callable[[str | None, Settings, InputSpec | None], LoadedDataset]  # the spec: an image model's input
    location_help: str = ""
    optional_location: bool = False  # takes a location without needing one (e.g. a download cache root)
    task: str = "image-classification"  # the task (core.tasks) whose models it scores

    @property
    def accepts_location(self) -> bool:
        return self.needs_location or self.optional_location


def check_compatible(model_name: str, model_space: str, num_classes: int, trained: bool,
                     dataset: LoadedDataset, latency_only: str | None = None) -> str | None:
    """Raise when the model's outputs cannot be scored on the dataset's labels; return a note if assumed."""
    if not dataset.has_labels or not trained or model_space == dataset.label_space:
        return None
    if model_space.startswith("custom") and num_classes == dataset.num_classes:
        return (f"assuming the model's {num_classes} outputs follow {dataset.name}'s class order "
                f"({', '.join(dataset.class_names[:3])}, ...)")
    timing_only = f", or {latency_only} for latency only" if latency_only else ""
    if model_space.startswith("custom"):
        raise DataError(f"model {model_name} predicts {num_classes} classes but dataset {dataset.name} has "
                        f"{dataset.num_classes} ({', '.join(dataset.class_names[:5])}); pick a dataset of "
                        f"{num_classes} classes{timing_only}, or a model with {dataset.num_classes} outputs")
    raise DataError(f"model {model_name} predicts {model_space} classes ({num_classes}) but dataset {dataset.name} is "
                    f"labelled with {dataset.label_space} classes ({dataset.num_classes}); pick a {model_space} "
                    f"dataset{timing_only}, or a model trained on {dataset.label_space}")
