import numpy as np
import pytest

from core.datasets import load_dataset
from core.errors import DataError, UnknownNameError
from core.inputs import InputSpec
from tests.helpers import write_image_folder

SPEC = InputSpec(3, 32, 32, (0.5,) * 3, (0.5,) * 3, resize=36)


def test_wnid_folders_map_to_imagenet_indices(tmp_path, settings):
    write_image_folder(tmp_path / "val", {"n01440764": 3, "n15075141": 2})
    dataset = load_dataset(f"imagenet-folder:{tmp_path / 'val'}", settings, SPEC)
    assert sorted(set(dataset.evaluation.labels.tolist())) == [0, 999]
    assert dataset.label_space == "imagenet-1k" and len(dataset.class_names) == 1000
    assert dataset.evaluation.images(np.array([0]))[0].shape == (40, 50, 3)


@pytest.mark.parametrize("layout, message", [
    ({}, "holds no class folders"),
    ({"cats": 1}, "match no ImageNet-1k WordNet id: cats"),
    ({"n01440764": 0}, "no images found"),
])
def test_unusable_folders(tmp_path, settings, layout, message):
    (tmp_path / "val").mkdir()
    write_image_folder(tmp_path / "val", layout)
    with pytest.raises(DataError, match=message):
        load_dataset(f"imagenet-folder:{tmp_path / 'val'}", settings, SPEC)


def test_missing_location_and_folder(tmp_path, settings):
    with pytest.raises(DataError, match="needs a location"):
        load_dataset("imagenet-folder", settings, SPEC)
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(f"imagenet-folder:{tmp_path / 'nope'}", settings, SPEC)


def test_corrupt_image_names_the_file(tmp_path, settings):
    write_image_folder(tmp_path / "val", {"n01440764": 1})
    (tmp_path / "val" / "n01440764" / "bad.jpg").write_bytes(b"not an image")
    dataset = load_dataset(f"imagenet-folder:{tmp_path / 'val'}", settings, SPEC)
    with pytest.raises(DataError, match="bad.jpg"):
        dataset.evaluation.images(np.arange(len(dataset.evaluation)))


def test_imagenette_reads_files_placed_in_the_cache(private_cache, settings):
    write_image_folder(settings.datasets_dir / "imagenette2-320" / "val", {"n01440764": 2, "n02102040": 2})
    dataset = load_dataset("imagenette", settings, SPEC)
    assert sorted(set(dataset.evaluation.labels.tolist())) == [0, 217]


def test_imagenette_offline_without_files(tmp_path, settings):
    with pytest.raises(DataError, match="downloads are off"):
        load_dataset(f"imagenette:{tmp_path}", settings, SPEC)


def test_synthetic_has_no_labels_and_model_shape(settings):
    dataset = load_dataset("synthetic", settings, SPEC)
    assert not dataset.has_labels
    image = dataset.evaluation.images(np.array([5]))[0]
    assert image.shape == (32, 32, 3)
    assert np.array_equal(image, dataset.evaluation.images(np.array([5]))[0])


def test_unknown_dataset_lists_names(settings):
    with pytest.raises(UnknownNameError, match="valid datasets: ag-news, bbc-news, bbc-news-articles, bbc-news-headlines, fashion-mnist, imagenet-folder, imagenette, sst2, synthetic, texts, wikitext-2"):
        load_dataset("cifar", settings, SPEC)
