import pytest
import torch
import torchvision

from core.errors import ModelError
from core.models import build_model, parse_model
from core.models.torchvision_zoo import NAMES, weights_file


def test_offline_without_cached_file_names_file_and_folder(private_cache, settings):
    with pytest.raises(ModelError) as info:
        build_model(parse_model("resnet18"), settings)
    path = weights_file("resnet18")
    assert path.name in str(info.value) and str(path.parent) in str(info.value)
    assert "--random-weights" in str(info.value)


def test_loads_a_weights_file_placed_in_the_cache(private_cache, settings):
    reference = torchvision.models.get_model("squeezenet1_1", weights=None)
    path = weights_file("squeezenet1_1")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(reference.state_dict(), path)
    model = build_model(parse_model("squeezenet1_1"), settings)
    for name, tensor in reference.state_dict().items():
        assert torch.equal(model.artifact.module.state_dict()[name], tensor)
    assert model.trained and model.label_space == "imagenet-1k"
    assert model.input_spec.height == 224 and model.input_spec.resize == 256


def test_random_weights_is_latency_only(settings):
    model = build_model(parse_model("squeezenet1_1", random_weights=True), settings)
    assert not model.trained


def test_every_listed_model_has_transforms_and_published_accuracy(settings):
    from core.models import MODELS

    for name in NAMES:
        row = MODELS.get(name).describe(settings)
        assert row["reference_top1"] > 50 and row["params"] > 1e5 and row["input"][0] == 3
