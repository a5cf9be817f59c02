import pytest

from core.errors import UnknownNameError
from core.registry import Registry


def test_unknown_name_lists_valid_names():
    registry = Registry("widget")
    registry.register("a", 1)
    registry.register("b", 2)
    with pytest.raises(UnknownNameError, match="unknown widget 'c'; valid widgets: a, b"):
        registry.get("c")


def test_duplicate_names_are_refused():
    registry = Registry("widget")
    registry.register("a", 1)
    with pytest.raises(ValueError, match="duplicate"):
        registry.register("a", 2)


def test_all_registries_are_populated():
    from core.datasets import DATASETS
    from core.models import MODELS
    from core.techniques import TECHNIQUES

    assert {"fashion-mnist", "imagenet-folder", "imagenette", "synthetic"} <= set(DATASETS.names())
    assert {"fp32", "onnx_export", "ort", "ort_static_int8"} <= set(TECHNIQUES.names())
    required = {"resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0",
                "shufflenet_v2_x1_0", "squeezenet1_1", "regnet_y_400mf", "convnext_tiny", "efficientnet_lite0",
                "lenet5", "resnet8", "mobilenetv2-tiny"}
    assert required <= set(MODELS.names())
