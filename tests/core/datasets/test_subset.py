import numpy as np
import pytest

from core.datasets.base import ArraySplit, LoadedDataset
from core.datasets.subset import (
    calibration_subset,
    evaluation_subset,
    stratified_indices,
)
from core.errors import DataError


def test_stratified_keeps_class_shares_and_is_seeded():
    labels = np.repeat(np.arange(4), [100, 200, 300, 400])
    picked = stratified_indices(labels, len(labels), 100, seed=3)
    assert np.bincount(labels[picked]).tolist() == [10, 20, 30, 40]
    assert np.array_equal(picked, stratified_indices(labels, len(labels), 100, seed=3))
    assert not np.array_equal(picked, stratified_indices(labels, len(labels), 100, seed=4))
    assert len(set(picked.tolist())) == 100


def test_uneven_sizes_sum_exactly():
    labels = np.repeat(np.arange(3), [7, 5, 3])
    for size in range(1, 16):
        assert len(stratified_indices(labels, len(labels), size, seed=0)) == size


@pytest.mark.parametrize("size, message", [(0, "at least 1"), (-5, "at least 1"), (11, "larger than the 10")])
def test_bad_sizes(size, message):
    with pytest.raises(DataError, match=message):
        stratified_indices(np.arange(10) % 2, 10, size, seed=0)


def test_calibration_is_disjoint_when_sharing_a_split():
    split = ArraySplit("val", np.zeros((50, 2, 2), np.uint8), np.arange(50) % 5)
    dataset = LoadedDataset("d", None, "x", tuple("abcde"), evaluation=split, calibration=split)
    subset = evaluation_subset(dataset, 30, seed=1)
    calib = calibration_subset(dataset, subset, 20, seed=1)
    assert not set(subset.indices) & set(calib.indices)
    with pytest.raises(DataError, match="calibration size 21 is larger than the 20"):
        calibration_subset(dataset, subset, 21, seed=1)
