"""Technique vocabulary: a registered transformation with a typed config, and what it may use."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from core.artifacts import Artifact, ArtifactKind
from core.inputs import InputSpec
from core.progress import Progress, no_progress

Position = Literal["alone", "any", "last"]


@dataclass
class BuildContext:
    """What a technique may use while it transforms an artifact."""

    input_spec: InputSpec
    example: np.ndarray                                  # a small preprocessed batch from the subset
    batch: int                                           # the run's batch size
    calibration: Callable[[int], np.ndarray]             # size -> preprocessed calibration images
    # (calibration size, size) -> preprocessed images and their labels (None without labels), disjoint from
    # the calibration images and the evaluation subset: what an accuracy-aware step decides on
    validation: Callable[[int, int], tuple[np.ndarray, np.ndarray | None]] | None = None
    device: str = "cpu"                                  # where the run executes
    # limit (None = all) -> preprocessed train images and labels; None when the dataset has no train split
    train: Callable[[int | None], tuple[np.ndarray, np.ndarray]] | None = None
    reference: Any = None                                # the untransformed FP32 torch module (a teacher)
    settings: Any = None                                 # core.settings.Settings, for caches
    model_name: str = ""                                 # the model as the run names it (name[:options])
    # the job's folder for intermediate files (`core.workdirs`: under the data directory, removed with the job)
    work_dir: Path | None = None
    progress: Progress = no_progress
    notes: list[str] = field(default_factory=list)
    # what a step found, by step name, stored with the run's environment (`steps`): e.g. the fused operators
    findings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExportRule:
    """What an ONNX export does with a step, decided from the recipe before anything is rebuilt.

    carried: the step's effect is inside the exported graph (weights, precision, quantization).
    runtime: a choice about how the model runs (a compiler, a layout, a cache, session options); the
    export rebuilds without it (`rebuilt` False) or keeps it for verification (`rebuilt` True), and
    `note` tells the user what the file does not carry.
    refused: no faithful ONNX form here; `instead` are the nearest exportable steps after onnx_export.
    """

    handling: Literal["carried", "runtime", "refused"] = "carried"
    note: str = ""
    instead: tuple[str, ...] = ()
    rebuilt: bool = False


CARRIED = ExportRule()


@dataclass(frozen=True)
class Explored:
    """Where a technique sits in the default exploration space: on `axis` (one of `core.explore.space.DEFAULT_AXES`),
    offered as `specs` (step specs; default: its bare name) for models that start as one of `starts`, plus the
    specs `extra` offers for models of one input kind (`core.tasks.Task.input_kind`: "image", "text")."""

    axis: str
    specs: tuple[str, ...] = ()
    starts: frozenset[str] = frozenset({"torch", "onnx"})
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def offered(self, name: str, input_kind: str) -> tuple[str, ...]:
        """The specs offered for a model of `input_kind`."""
        return (*(self.specs or (name,)), *dict(self.extra).get(input_kind, ()))


@dataclass(frozen=True)
class Technique:
    """One named transformation.

    `accepts` are the artifact kinds it can take; `produces` the kind it returns (None: unchanged).
    `position`: "alone" (must be the only step), "last" (configures the runtime), or "any".
    `calibration_size` tells the UI and the validator how many calibration images a config needs, and
    `validation_size` how many validation images (disjoint from both) an accuracy-aware config decides on;
    `check` refuses configurations the run's device or settings cannot honour, with the reason; `caution` warns,
    before queueing, of a configuration that runs but is likely to disappoint;
    `needs_train_split` says when a config trains (recovery, distillation) and so needs a train split;
    `export(kind)` is how an ONNX export treats the step when it is applied to a `kind` artifact;
    `fixes_batch` says when a config leaves a graph that takes one batch size only;
    `lossless(config)` says when a step (its stored config, a dict) keeps the model's FP32 weights and arithmetic —
    a format, an engine, a layout, a compiler: runs of only such steps are the *lossless* configurations, the
    speed a user has for free, and every speed-up is also quoted against the fastest of them.

    What the step does to the arithmetic, for every place that reasons about it (the exploration's default space,
    the doctor, the roofline, a profile, a diagnosis) — they ask these fields, never the name:
    `precision` the precision the step leaves the model computing in ("int8", "bf16", "fp16"; None: unchanged);
    `quantization` how it quantizes ("static": calibrated activations, "dynamic": activations at run time,
    "weight-only": weights stored in fewer bits, activations in float — what a memory-bound decode step gains from);
    `keep_float` the config field naming nodes it leaves in float (what a sensitivity diagnosis fills in);
    `explore` the default exploration axis it is offered on, with the step specs offered and the kinds of model
    ("torch", "onnx") they are offered for (`Explored`).
    """

    name: str
    summary: str
    config_cls: type
    accepts: frozenset[ArtifactKind]
    apply: Callable[[Artifact, Any, BuildContext], Artifact]
    produces: ArtifactKind | None = None
    position: Position = "any"
    calibration_size: Callable[[Any], int] = lambda config: 0
    validation_size: Callable[[Any], int] = lambda config: 0
    check: Callable[[Any, ArtifactKind, Any], None] = lambda config, kind, runtime: None  # RecipeError if impossible
    needs_train_split: Callable[[Any], bool] = lambda config: False
    export: Callable[[ArtifactKind], ExportRule] = lambda kind: CARRIED
    fixes_batch: Callable[[Any], bool] = lambda config: False  # the result takes only the run's batch size
    recommendable: bool = True  # False: its runs are never recommended (their speed is not the model's)
    # a config that runs but is likely to disappoint (pruning with no recovery), in words said before it is queued
    caution: Callable[[Any], str | None] = lambda config: None
    lossless: Callable[[dict], bool] = lambda config: False
    precision: str | None = None
    quantization: Literal["static", "dynamic", "weight-only"] | None = None
    keep_float: str | None = None
    diagnosable: bool = False  # a sensitivity diagnosis can score its nodes (onnxruntime's QDQ debugger reads them)
    explore: Explored | None = None

    def output_kind(self, kind: ArtifactKind) -> ArtifactKind:
        return self.produces or kind
