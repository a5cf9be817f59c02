"""Which runs compare, and against what: the domain rules every figure rests on.

Same model, same images, same machine: a speed-up is only ever taken against a baseline of the same target
(`comparison_key`). The baseline is the untransformed FP32 model; lossless configurations keep its weights and
arithmetic; some runs (behind a response cache) are never recommended. How these are worded and charted lives
in `core.views`.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from core.store import RunRecord, RunSpec
from core.techniques import TECHNIQUES

COMPARISON_FIELDS = ("model", "dataset", "dataset_location", "subset_size", "subset_seed", "target")


def comparison_key(run: RunRecord | RunSpec) -> tuple:
    """Runs with the same key measure the same model on the same images (a record, or a planned run)."""
    return tuple(getattr(run, name) for name in COMPARISON_FIELDS)


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
