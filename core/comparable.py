"""Which runs compare, and against what: the domain rules every figure rests on.

Same model, same options, same images, same machine: a speed-up is only ever taken against a baseline of the
same target (`comparison_key`); a model read at another max length, or trained with other options, is another
measurement with its own baseline. Predictions compare across options on the same images (`images_key`). The
baseline is the untransformed FP32 model; lossless configurations keep its weights and arithmetic; some runs
(behind a response cache) are never recommended. How these are worded and charted lives
in `core.views`.
"""
from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Iterable, Sequence
from typing import Any

from core.models import MODELS
from core.store import RunRecord, RunSpec
from core.techniques import TECHNIQUES

COMPARISON_FIELDS = ("model", "dataset", "dataset_location", "subset_size", "subset_seed", "target")


def comparison_key(run: RunRecord | RunSpec) -> tuple:
    """Runs with the same key measure the same model, with the same options, on the same images (a record, or a
    planned run): what a speed-up or an accuracy drop is taken against."""
    return (*images_key(run), model_options_key(run.model, run.model_options))


def images_key(run: RunRecord | RunSpec) -> tuple:
    """Runs with the same key scored the same model on the same images, whatever its options: their predictions
    compare one by one (flips)."""
    return tuple(getattr(run, name) for name in COMPARISON_FIELDS)


@functools.lru_cache(maxsize=None)
def _option_defaults(model: str) -> dict[str, Any]:
    if model not in MODELS:
        return {}  # an ONNX file: its options have no defaults to leave out
    return {f.name: f.default for f in dataclasses.fields(MODELS.get(model).options_cls)}


def model_options_key(model: str, options: dict[str, Any] | None) -> str:
    """The options that differ from the model's defaults, canonical: `minilm-bbc` and `minilm-bbc:max_length=128`
    are one model; `minilm-bbc:max_length=64` another measurement."""
    defaults = _option_defaults(model)
    changed = {k: v for k, v in (options or {}).items() if k not in defaults or defaults[k] != v}
    return json.dumps(changed, sort_keys=True, default=str)


def is_baseline_recipe(steps: Sequence[dict[str, Any]]) -> bool:
    """No steps, or only the baseline technique (`fp32`, which stands alone): the untransformed model."""
    return all(TECHNIQUES.get(step["technique"]).position == "alone" for step in steps)


def is_lossless_recipe(steps: Sequence[dict[str, Any]]) -> bool:
    """Only steps that keep FP32 weights and arithmetic (`Technique.lossless`): the baseline, an export, an
    engine, a layout, a compiler."""
    return all(TECHNIQUES.get(step["technique"]).lossless(step.get("config") or {}) for step in steps)


def recommendable(run: RunRecord) -> bool:
    """False for runs whose speed is not the model's (e.g. behind a response cache): never recommended."""
    return all(TECHNIQUES.get(step["technique"]).recommendable for step in run.recipe)


def is_baseline(run: RunRecord) -> bool:
    return is_baseline_recipe(run.recipe)


def baselines(runs: Iterable[RunRecord]) -> dict[tuple, RunRecord]:
    """The latest done FP32 baseline per comparison key, preferring one timed on a quiet machine."""
    found: dict[tuple, RunRecord] = {}
    for run in runs:
        if run.status == "done" and is_baseline(run):
            key = comparison_key(run)
            if key not in found or (not run.noisy, run.id) > (not found[key].noisy, found[key].id):
                found[key] = run
    return found
