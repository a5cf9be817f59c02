"""A recipe: ordered technique steps plus runtime and timing settings, validated before anything runs."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.artifacts import ArtifactKind
from core.bench.timing import TimingConfig
from core.errors import RecipeError
from core.options import parse_key_values, parse_options, split_spec, to_dict
from core.runtimes import RUNTIMES
from core.runtimes.settings import ORT_PROVIDERS, RuntimeSettings
from core.techniques import CONFLICTS, TECHNIQUES, families, family_techniques

__all__ = ["ORT_PROVIDERS", "Recipe", "RuntimeSettings", "Step", "make_step", "parse_step",
           "recipe_from_json", "validate"]


@dataclass(frozen=True)
class Step:
    technique: str
    config: Any

    def to_dict(self) -> dict[str, Any]:
        return {"technique": self.technique, "config": to_dict(self.config)}


@dataclass(frozen=True)
class Recipe:
    steps: tuple[Step, ...] = ()
    runtime: RuntimeSettings = field(default_factory=RuntimeSettings)
    timing: TimingConfig = field(default_factory=TimingConfig)

    def steps_json(self) -> list[dict[str, Any]]:
        return [step.to_dict() for step in self.steps]

    def cautions(self) -> list[str]:
        """What its steps warn of before it is queued (`Technique.caution`)."""
        return [words for step in self.steps if (words := TECHNIQUES.get(step.technique).caution(step.config))]

    def calibration_size(self) -> int:
        return max((TECHNIQUES.get(s.technique).calibration_size(s.config) for s in self.steps), default=0)

    def validation_size(self) -> int:
        return max((TECHNIQUES.get(s.technique).validation_size(s.config) for s in self.steps), default=0)

    def final_kind(self, start: ArtifactKind) -> ArtifactKind:
        kind = start
        for step in self.steps:
            kind = TECHNIQUES.get(step.technique).output_kind(kind)
        return kind


def parse_step(spec: str) -> Step:
    """"NAME[:key=value,...]" -> Step with a typed, checked config."""
    name, rest = split_spec(spec)
    return make_step(name, parse_key_values(rest, what=f"technique {name}") if rest else {})


def make_step(name: str, values: dict[str, Any] | None = None) -> Step:
    technique = TECHNIQUES.get(name)
    return Step(name, parse_options(technique.config_cls, values, what=f"technique {name}"))


def recipe_from_json(steps: list[dict[str, Any]], runtime: dict[str, Any] | None = None,
                     timing: dict[str, Any] | None = None) -> Recipe:
    """Rebuild a stored recipe."""
    return Recipe(tuple(make_step(s["technique"], s.get("config")) for s in steps),
                  parse_options(RuntimeSettings, runtime, what="runtime"),
                  parse_options(TimingConfig, timing, what="timing"))


def validate(recipe: Recipe, start: ArtifactKind) -> None:
    """Check order and kinds; raise RecipeError saying what to change. `start` is the model's kind."""
    steps = recipe.steps
    names = [s.technique for s in steps]
    for i, step in enumerate(steps):
        technique = TECHNIQUES.get(step.technique)
        if technique.position == "alone" and len(steps) > 1:
            raise RecipeError(f"{step.technique} is the untransformed baseline and cannot be combined with "
                              f"{', '.join(n for n in names if n != step.technique)}; run it on its own")
        later = [n for n in names[i + 1:] if TECHNIQUES.get(n).position != "last"]
        if technique.position == "last" and later:
            raise RecipeError(f"{step.technique} configures how the final model runs, so it must come after the "
                              f"steps that transform the model; move it after {later[-1]}")
        if names.count(step.technique) > 1:
            raise RecipeError(f"{step.technique} appears {names.count(step.technique)} times; keep one")
    for pair, reason in CONFLICTS.items():
        if pair <= set(names):
            a, b = sorted(pair)
            raise RecipeError(f"{a} and {b} cannot be combined ({reason}); remove one")
    kind = start
    for i, step in enumerate(steps):
        technique = TECHNIQUES.get(step.technique)
        family = RUNTIMES.get(kind).family
        if family not in families(technique):  # across families a wrong technique; within one, a matter of order
            raise RecipeError(f"{step.technique} applies to a {min(families(technique))} and this model is a "
                              f"{family}; its techniques are {', '.join(family_techniques(family))}")
        if kind not in technique.accepts:
            before = "the model" if i == 0 else f"after {names[i - 1]} the model"
            needs = " or ".join(RUNTIMES.get(k).words for k in sorted(technique.accepts))
            raise RecipeError(f"{step.technique} needs {needs} model, but {before} is "
                              f"{RUNTIMES.get(kind).words} model; {_fix(step.technique, kind, start, names[:i])}")
        technique.check(step.config, kind, recipe.runtime)
        kind = technique.output_kind(kind)
    if recipe.runtime.batch < 1:
        raise RecipeError("batch must be at least 1")


def _bridge(kind: ArtifactKind, needs: frozenset[ArtifactKind], hops: int = 2) -> list[str]:
    """The fewest steps (at most `hops`) that turn a `kind` model into one of `needs` (e.g. lm_onnx_export then
    lm_openvino before nncf_weight_compression); empty when none does."""
    paths: list[tuple[ArtifactKind, list[str]]] = [(kind, [])]
    for _ in range(hops):
        paths = [(t.produces, [*names, n]) for k, names in paths for n, t in TECHNIQUES
                 if k in t.accepts and t.produces and t.produces != k]
        done = next((names for k, names in paths if k in needs), None)
        if done:
            return done
    return []


def _fix(name: str, kind: ArtifactKind, start: ArtifactKind, earlier: list[str]) -> str:
    needs = TECHNIQUES.get(name).accepts
    if kind == "torch":
        return f"add onnx_export before {name}"
    if kind == "compiled" or RUNTIMES.get(kind).engine == "torch-compiled":
        compiler = next(n for n in reversed(earlier) if TECHNIQUES.get(n).produces == kind)
        return f"{compiler} compiles the model, so it must come after {name}; move {name} before {compiler}"
    bridge = _bridge(kind, needs)
    if bridge:
        return f"add {' then '.join(bridge)} before {name}"
    if start == "onnx":
        return f"{name} needs a PyTorch model and this model is an ONNX file; remove {name}"
    return f"move {name} before {exporter_of(start)}"


def exporter_of(kind: ArtifactKind) -> str:
    """The technique that exports a `kind` model to ONNX (onnx_export; a language model's lm_onnx_export)."""
    return next((n for n, t in TECHNIQUES if kind in t.accepts and t.produces
                 and RUNTIMES.get(t.produces).engine == "onnxruntime"), "onnx_export")
