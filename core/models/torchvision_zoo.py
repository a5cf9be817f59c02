"""`torchvision` models: ImageNet weights through torchvision's weights API."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.artifacts import TorchArtifact
from core.downloads import network_timeout
from core.errors import ModelError
from core.inputs import InputSpec
from core.models.base import LoadedModel, ModelEntry
from core.options import option, to_dict
from core.progress import Progress
from core.settings import Settings

NAMES = ("resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0",
         "shufflenet_v2_x1_0", "squeezenet1_1", "regnet_y_400mf", "convnext_tiny")


@dataclass(frozen=True)
class TorchvisionOptions:
    random_weights: bool = option(False, "skip the ImageNet weights: latency only, accuracy not applicable")


RANDOM_WEIGHTS_SEED = 0


def default_weights(name: str):
    import torchvision

    return torchvision.models.get_model_weights(name).DEFAULT


def weights_file(name: str) -> Path:
    """Where torch.hub keeps (or will keep) this model's default weights."""
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(default_weights(name).url)


def input_spec(name: str) -> InputSpec:
    """The weights' own eval transform, as an InputSpec."""
    transform = default_weights(name).transforms()
    return InputSpec(channels=3, height=transform.crop_size[0], width=transform.crop_size[0],
                     mean=tuple(transform.mean), std=tuple(transform.std), resize=transform.resize_size[0],
                     interpolation=transform.interpolation.value)


def _load_state_dict(name: str, settings: Settings):
    weights = default_weights(name)
    path = weights_file(name)
    if not path.is_file() and settings.offline:
        raise ModelError(f"{name}: weights file {path.name} is not in the cache folder {path.parent} and downloads "
                         f"are off; copy {path.name} there (from {weights.url}), or use random weights "
                         "(--random-weights) for a latency-only run")
    try:
        # check_hash=False: a file the user placed by hand must load even if renamed from another mirror.
        with network_timeout():
            return weights.get_state_dict(progress=True, check_hash=False, weights_only=True)
    except Exception as exc:  # download and unpickling failures come in many types
        where = "could not be loaded" if path.is_file() else "is not cached and could not be downloaded"
        raise ModelError(f"{name}: weights file {path.name} {where} ({type(exc).__name__}: {exc}); put the file in "
                         f"{path.parent} (from {weights.url}), or use random weights (--random-weights) "
                         "for a latency-only run") from None


def _builder(name: str):
    def build(options: TorchvisionOptions, settings: Settings, progress: Progress) -> LoadedModel:
        import torch
        import torchvision

        with torch.random.fork_rng():  # random weights are the same on every build: a rebuild reproduces its run
            torch.manual_seed(RANDOM_WEIGHTS_SEED)
            module = torchvision.models.get_model(name, weights=None)
        notes = []
        if options.random_weights:
            notes.append("random weights: latency only, accuracy not applicable")
        else:
            try:
                module.load_state_dict(_load_state_dict(name, settings))
            except RuntimeError as exc:
                raise ModelError(f"{name}: the weights file {weights_file(name)} does not fit the architecture "
                                 f"({exc}); delete it so the right one can be downloaded") from None
        return LoadedModel(name, "torchvision", TorchArtifact(module.eval()), input_spec(name), "imagenet-1k", 1000,
                           trained=not options.random_weights, options=to_dict(options), notes=notes)
    return build


def _describer(name: str):
    def describe(settings: Settings) -> dict[str, Any]:
        weights = default_weights(name)
        meta = weights.meta
        spec = input_spec(name)
        # torchvision's "_ops" counts multiply-adds; a FLOP count is twice that.
        return {"params": meta["num_params"], "gflops": round(2 * meta["_ops"], 3),
                "input": [spec.channels, spec.height, spec.width], "weights_offline": weights_file(name).is_file(),
                "weights": str(weights), "reference_top1": meta["_metrics"]["ImageNet-1K"]["acc@1"]}
    return describe


ENTRIES = [ModelEntry(name=name, source="torchvision", description=f"torchvision {name}, ImageNet-1k weights",
                      label_space="imagenet-1k", options_cls=TorchvisionOptions, build=_builder(name), describe=_describer(name))
           for name in NAMES]
