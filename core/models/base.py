"""Model vocabulary: a registered entry, and a model built and ready to transform."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.artifacts import Artifact
from core.inputs import InputSpec
from core.progress import Progress
from core.settings import Settings


@dataclass
class LoadedModel:
    """A built model: the FP32 artifact plus what evaluation needs to know about it."""

    name: str
    source: str
    artifact: Artifact
    input_spec: InputSpec
    label_space: str            # "fashion-mnist", "imagenet-1k", or "custom-<K>" for an uploaded ONNX
    num_classes: int
    trained: bool = True        # False with random weights: accuracy is not applicable
    options: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    class_names: tuple[str, ...] = ()  # what each output means, where the model says (empty: not known)


@dataclass(frozen=True)
class ModelEntry:
    """A registered model: builder plus what the listings show before building anything."""

    name: str
    source: str                 # torchvision | bundled | local | onnx
    description: str
    label_space: str            # what its outputs mean: "fashion-mnist", "imagenet-1k"
    options_cls: type
    build: Callable[[Any, Settings, Progress], LoadedModel]
    describe: Callable[[Settings], dict[str, Any]]
    task: str = "image-classification"  # what it does (core.tasks): which datasets score it
    # how many classes the model with these options predicts, read cheaply before it is built (None: unknown)
    classes: Callable[[dict[str, Any]], int | None] | None = None
    # refuses, before anything is stored, options the model cannot run with these runtime settings (a prompt and
    # continuation longer than a language model reads): (typed options, RuntimeSettings) -> None or RecipeError
    check: Callable[[Any, Any], None] = lambda options, runtime: None
