import numpy as np
import pytest

from core.datasets import load_dataset
from core.datasets.fashion_mnist import locate
from core.errors import DataError
from core.inputs import InputSpec
from core.settings import DEBIAN_FASHION_MNIST_DIR, load_settings
from tests.helpers import write_fashion_mnist, write_idx

SPEC = InputSpec(1, 28, 28, (0.5,), (0.5,))


@pytest.mark.skipif(not DEBIAN_FASHION_MNIST_DIR.is_dir(), reason="needs apt-get install dataset-fashion-mnist")
def test_debian_package_loads_with_real_sizes(settings):
    dataset = load_dataset("fashion-mnist", settings, SPEC)
    assert len(dataset.evaluation) == 10_000 and len(dataset.train) == 60_000
    assert dataset.calibration is dataset.train
    assert np.bincount(dataset.evaluation.labels).tolist() == [1000] * 10


def test_folder_from_setting_wins(tmp_path, monkeypatch):
    write_fashion_mnist(tmp_path / "fm", train=30, test=20)
    monkeypatch.setenv("INFERSCOPE_FASHION_MNIST_DIR", str(tmp_path / "fm"))
    dataset = load_dataset("fashion-mnist", load_settings(), SPEC)
    assert len(dataset.evaluation) == 20 and dataset.location == str(tmp_path / "fm")


def test_explicit_location(tmp_path, settings):
    write_fashion_mnist(tmp_path / "fm", train=30, test=20)
    assert len(load_dataset(f"fashion-mnist:{tmp_path / 'fm'}", settings, SPEC).train) == 30


def test_nothing_found_lists_all_three_ways(private_cache, tmp_path, monkeypatch):
    monkeypatch.setenv("INFERSCOPE_SYSTEM_FASHION_MNIST_DIR", str(tmp_path / "none"))
    with pytest.raises(DataError) as info:
        locate(None, load_settings())
    text = str(info.value)
    assert "apt-get install dataset-fashion-mnist" in text and "INFERSCOPE_FASHION_MNIST_DIR" in text
    assert "download" in text


def test_truncated_file_names_path_and_fix(tmp_path, settings):
    folder = write_fashion_mnist(tmp_path / "fm", train=30, test=20)
    write_idx(folder / "t10k-images-idx3-ubyte", np.zeros((20, 28, 28)), compress=False)
    (folder / "t10k-images-idx3-ubyte.gz").unlink()
    raw = (folder / "t10k-images-idx3-ubyte").read_bytes()
    (folder / "t10k-images-idx3-ubyte").write_bytes(raw[:-100])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte is truncated.*replace it"):
        load_dataset(f"fashion-mnist:{folder}", settings, SPEC)
