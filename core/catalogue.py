"""What there is to pick from, as every front end lists it: models and their option forms, datasets, techniques,
scenarios, the settings forms, and the devices and execution providers this machine offers."""
from __future__ import annotations

from typing import Any

from core.bench.timing import TimingConfig
from core.curve import CurveConfig
from core.datasets import DATASETS
from core.diagnose import ProfileConfig, SensitivityConfig
from core.errors import ConfigError
from core.explore import ExploreSettings
from core.models import MODELS, SOURCES, source_task, start_kind
from core.options import describe
from core.recipe import ORT_PROVIDERS, RuntimeSettings
from core.remeasure import RemeasureConfig
from core.runtimes import RUNTIMES
from core.scenarios import SCENARIOS
from core.tasks import TASKS
from core.techniques import TECHNIQUES, family_techniques

# The settings forms and flag groups: each page form and CLI flag is generated from these (option() fields).
SETTINGS: dict[str, type] = {"runtime": RuntimeSettings, "timing": TimingConfig, "explore": ExploreSettings,
                             "curve": CurveConfig, "remeasure": RemeasureConfig, "diagnose": SensitivityConfig,
                             "profile": ProfileConfig}


def model_sources(task: str | None = None) -> dict[str, str]:
    """Model sources and what each offers (those whose models do `task` when given)."""
    return {name: words for name, words in SOURCES.items() if task in (None, source_task(name))}


def tasks() -> list[dict[str, Any]]:
    """The registered tasks, with the offline default each starts from."""
    return [{"name": name, "words": t.words, "item": t.item, "default_model": t.default_model,
             "default_dataset": t.default_dataset, "default_subset": t.default_subset, "subset_help": t.subset_help}
            for name, t in TASKS]


def model_option_fields(source: str) -> list[dict[str, Any]]:
    """The option form of a model source (e.g. epochs and seed for local models)."""
    from core.models.onnx_file import OnnxOptions

    entries = [e for _, e in MODELS if e.source == source]
    return describe(entries[0].options_cls if entries else OnnxOptions)


def settings_fields(form: str) -> list[dict[str, Any]]:
    """The fields of one settings form ("runtime", "timing", "explore", "curve") with help and bounds."""
    if form not in SETTINGS:
        raise ConfigError(f"no settings form {form!r}; valid: {', '.join(SETTINGS)}")
    return describe(SETTINGS[form])


def datasets(task: str | None = None) -> list[dict[str, Any]]:
    """The registered datasets (those of `task` when given), one row each."""
    return [{"name": name, "task": e.task, "description": e.description, "needs_location": e.needs_location,
             "accepts_location": e.accepts_location, "label_space": e.label_space,
             "location_help": e.location_help} for name, e in DATASETS if task in (None, e.task)]


def techniques(task: str | None = None) -> list[dict[str, Any]]:
    """The techniques (those a model of `task` can take, when given: its family's, less what the task refuses)."""
    offered = [name for name, _ in TECHNIQUES]
    if task is not None:
        family = RUNTIMES.get(start_kind(MODELS.get(TASKS.get(task).default_model).source)).family
        offered = [name for name in family_techniques(family) if not TASKS.get(task).refusal(name)]
    return [{"name": name, "summary": t.summary, "accepts": sorted(t.accepts), "produces": t.produces,
             "position": t.position, "options": describe(t.config_cls)} for name, t in TECHNIQUES if name in offered]


def scenarios(task: str | None = None) -> list[dict[str, Any]]:
    """The load scenarios (those a run of `task` can be measured under, when given)."""
    allowed = TASKS.get(task).scenarios if task is not None else None
    return [{"name": name, "summary": s.summary, "use_when": s.use_when, "queueing": s.queueing,
             "options": describe(s.config_cls)} for name, s in SCENARIOS if allowed is None or name in allowed]


def execution_choices() -> list[dict[str, Any]]:
    """Devices and onnxruntime execution providers, with the reason when one is unavailable."""
    import onnxruntime as ort
    import torch

    providers = ort.get_available_providers()
    cuda = torch.cuda.is_available()
    rows = [{"device": "cpu", "engine": "torch + onnxruntime CPUExecutionProvider", "available": True,
             "reason": ""},
            {"device": "cuda", "engine": "torch CUDA + onnxruntime CUDAExecutionProvider",
             "available": cuda and "CUDAExecutionProvider" in providers,
             "reason": "" if cuda and "CUDAExecutionProvider" in providers else
             ("no CUDA device (torch.cuda.is_available() is False)" if not cuda
              else "this onnxruntime build has no CUDAExecutionProvider (install onnxruntime-gpu)")}]
    return rows

def provider_choices() -> list[dict[str, Any]]:
    """onnxruntime execution providers InferScope knows, with the reason when one is unavailable."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    return [{"provider": name, "available": name in available,
             "reason": "" if name in available else "not in this onnxruntime build (e.g. onnxruntime-gpu or "
             "onnxruntime-openvino provides it)"} for name in ORT_PROVIDERS]
