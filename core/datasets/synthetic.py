"""Random images of the model's input size: latency only, no labels."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.datasets.base import DatasetEntry, LoadedDataset
from core.inputs import InputSpec
from core.settings import Settings

POOL_SIZE = 100_000


@dataclass
class RandomSplit:
    """Deterministic random uint8 images: image i is always the same for the same shape."""

    name: str
    height: int
    width: int
    channels: int
    seed: int
    labels: None = None

    def __len__(self) -> int:
        return POOL_SIZE

    def images(self, indices: np.ndarray) -> list[np.ndarray]:
        return [np.random.default_rng((self.seed, int(i))).integers(0, 256, (self.height, self.width, self.channels),
                                                                     dtype=np.uint8) for i in np.asarray(indices)]


def load(location: str | None, settings: Settings, spec: InputSpec) -> LoadedDataset:
    evaluation = RandomSplit("random", spec.height, spec.width, spec.channels, seed=0)
    calibration = RandomSplit("random-calibration", spec.height, spec.width, spec.channels, seed=1)
    return LoadedDataset("synthetic", None, None, (), evaluation=evaluation, calibration=calibration,
                         notes=["synthetic data: latency and fidelity only, accuracy is not applicable"])


ENTRY = DatasetEntry(name="synthetic", description="random images of the model's input shape: latency only",
                     needs_location=False, label_space=None, load=load)
