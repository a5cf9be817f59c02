"""What a run exports to, decided from its stored recipe before anything is rebuilt.

Each technique says how an ONNX export treats it (`Technique.export`): carried into the graph, a
runtime choice the file does not carry, or refused for want of a faithful ONNX form, with the
nearest exportable steps. This module turns those rules into one plan per run; it imports no torch,
so the Export page can show every run's plan before the button.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import RecipeError
from core.models import start_kind
from core.recipe import exporter_of, recipe_from_json, validate
from core.store import RunRecord
from core.techniques import TECHNIQUES


@dataclass(frozen=True)
class ExportPlan:
    """How one run exports.

    `steps`: the stored recipe steps the export rebuilds (JSON form); a torch result gets a final
    onnx_export (a language model, lm_onnx_export). `notes`: what the file does not carry. `refused`: why the run
    cannot be exported, or None. `alternative`: when refused, the nearest exportable recipe (JSON steps), if one is valid.
    """

    run_id: int
    steps: tuple[dict[str, Any], ...]
    notes: tuple[str, ...] = ()
    refused: str | None = None
    alternative: tuple[dict[str, Any], ...] | None = None

    @property
    def exportable(self) -> bool:
        return self.refused is None

    @property
    def alternative_summary(self) -> str | None:
        return " → ".join(s["technique"] for s in self.alternative) if self.alternative is not None else None

    def refusal(self) -> str:
        """The refusal as one message: why, and what to run instead."""
        if self.alternative is None:
            return self.refused or ""
        return (f"{self.refused}; the nearest exportable configuration is {self.alternative_summary} — queue it "
                "(the Export page offers it) and export that run")


def plan_export(run: RunRecord) -> ExportPlan:
    """The export plan of `run`: rebuilt steps and notes, or the refusal and the nearest alternative."""
    if run.status != "done":
        return ExportPlan(run.id, (), refused=f"run {run.id} is {run.status}; only finished (done) runs can be "
                                              "exported")
    kind = start_kind(run.model_source)
    rebuilt, notes, refusals, instead, kept = [], [], [], [], []
    for step in run.recipe:
        technique = TECHNIQUES.get(step["technique"])
        rule = technique.export(kind)
        if rule.handling == "refused":
            refusals.append(f"{technique.name} ({rule.note})")
            instead += [name for name in rule.instead if name not in instead]
        else:
            if rule.handling == "carried" or rule.rebuilt:
                rebuilt.append(step)
            if rule.note:
                notes.append(rule.note)
            if rule.handling == "carried" or "onnx" in technique.accepts:
                kept.append(step)  # what an ONNX-side alternative keeps: not torch-only runtime choices
        kind = technique.output_kind(kind)
    if refusals:
        return ExportPlan(run.id, (), refused=f"run {run.id} cannot be exported: " + "; ".join(refusals),
                          alternative=_alternative(run, kept, instead))
    return ExportPlan(run.id, tuple(rebuilt), tuple(notes))


def _alternative(run: RunRecord, kept: list[dict[str, Any]], instead: list[str]) -> tuple[dict[str, Any], ...] | None:
    """`kept` steps of the run plus onnx_export and the `instead` steps, in canonical order.

    None when the result would not be a valid recipe.
    """
    names = {s["technique"] for s in kept}
    exporter = exporter_of(start_kind(run.model_source))
    added = [{"technique": name, "config": {}} for name in (exporter, *instead) if name not in names]
    order = TECHNIQUES.names()
    steps = sorted([*kept, *added], key=lambda s: order.index(s["technique"]))
    try:
        recipe = recipe_from_json(steps, {k: v for k, v in run.runtime.items() if k != "timing"})
        validate(recipe, start_kind(run.model_source))
    except RecipeError:
        return None
    return tuple(recipe.steps_json())
