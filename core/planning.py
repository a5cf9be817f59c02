"""Planning: a run, grid or exploration request -> validated, typed plans of what will be stored.

Everything that can be refused before work starts is refused here, in the words of the form or the
flag: model and data compatibility, recipe order, scenario settings, baselines a grid still needs,
the trials a budget allows. Nothing is measured, trained or stored here; the api stores the plans,
the worker plans exploration trials through `Planner.trial_planner`.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from core import comparable
from core.bench.timing import TimingConfig
from core.datasets import DATASETS, check_task, parse_dataset
from core.datasets.base import check_compatible
from core.datasets.subset import (
    calibration_split_name,
    calibration_subset,
    evaluation_subset,
    validation_subset,
)
from core.errors import ConfigError, DataError, InferScopeError, RecipeError
from core.explore import (
    Configuration,
    SearchSpace,
    default_space,
    parse_settings,
    runnable,
)
from core.explore.seeding import BudgetAdvice, reusable_run, seed_configurations
from core.explore.settings import choose_strategy, task_defaults
from core.explore.space import Validity
from core.explore.trials import current_fingerprint
from core.inputs import InputSpec
from core.model_files import file_sha256
from core.models import MODELS, parse_model, start_kind
from core.models.onnx_file import validate as validate_onnx
from core.options import (
    format_spec,
    parse_key_values,
    parse_options,
    split_spec,
    to_dict,
)
from core.recipe import Recipe, RuntimeSettings, make_step, validate
from core.runtimes import RUNTIMES, check_runtime
from core.scenarios import DEFAULT_SCENARIO, SCENARIOS, parse_scenario
from core.settings import Settings
from core.store import ACTIVE_STATUSES, RunRecord, RunSpec, RunStore, hardware_words
from core.targets import check_target_name
from core.tasks import DEFAULT_TASK, TASKS
from core.techniques import TECHNIQUES

# Dataset sizes do not depend on the input shape; this stands in for the model's during validation.
SIZE_PROBE_SPEC = InputSpec(1, 1, 1, (0.0,), (1.0,))
# Seconds per trial assumed before this model has any finished run to go by.
DEFAULT_SECONDS_PER_RUN = 20.0


@dataclass(frozen=True)
class StepSpec:
    """One technique step as asked for: its name and option values (checked when the run is planned)."""

    technique: str
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> StepSpec:
        """The CLI's NAME[:key=value,...] form."""
        name, rest = split_spec(text)
        return cls(name, parse_key_values(rest, what=f"technique {name}") if rest else {})

    def label(self) -> str:
        return format_spec(self.technique, self.options)


@dataclass(frozen=True)
class RunRequest:
    """One run as a user asks for it.

    `techniques` are typed steps; text in the CLI's NAME[:key=value,...] form is accepted too and
    parsed once, here at the boundary. `model` may carry options the same way (name[:k=v] or an
    ONNX path); `model_options` and `scenario_options` add typed values to them.
    """

    model: str
    dataset: str = "fashion-mnist"
    subset: int = 1000
    seed: int = 0
    techniques: tuple[StepSpec | str, ...] = ()
    threads: int | None = None
    batch: int = 1
    device: str = "cpu"
    random_weights: bool = False
    timing: dict[str, Any] = field(default_factory=dict)
    provider: str | None = None
    scenario: str = DEFAULT_SCENARIO  # NAME, or NAME[:key=value,...] as typed on the CLI
    model_options: dict[str, Any] = field(default_factory=dict)
    scenario_options: dict[str, Any] = field(default_factory=dict)
    target: str | None = None  # a registered target's name; None = this machine's worker (unaddressed)

    @property
    def steps(self) -> tuple[StepSpec, ...]:
        return tuple(s if isinstance(s, StepSpec) else StepSpec.parse(s) for s in self.techniques)

    @classmethod
    def like(cls, run: RunRecord, steps: tuple[StepSpec, ...]) -> RunRequest:
        """A request for `run`'s model, data, runtime and scenario with other recipe steps."""
        return cls(model=run.model, model_options=run.model_options, dataset=run.dataset_spec,
                   subset=run.subset_size, seed=run.subset_seed, techniques=steps, threads=run.runtime.get("threads"),
                   batch=run.runtime.get("batch", 1), device=run.runtime.get("device", "cpu"),
                   provider=run.runtime.get("provider"), timing=run.runtime.get("timing") or {},
                   scenario=run.scenario, scenario_options=run.scenario_config)


@dataclass(frozen=True)
class PlannedRun:
    """A validated request: exactly what will be stored."""

    spec: RunSpec
    recipe: Recipe


@dataclass(frozen=True)
class GridRequest:
    """Several runs at once: every list is one axis; the grid is their Cartesian product.

    `techniques` is an ordered list of (technique name, {option: [values]}); each option's values
    form another axis; so does each option of `scenario` (name, {option: [values]}).
    """

    models: tuple[str, ...]
    model_options: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    dataset: str = "fashion-mnist"
    subset: int = 1000
    seed: int = 0
    techniques: tuple[tuple[str, dict[str, tuple[Any, ...]]], ...] = ()
    threads: tuple[int | None, ...] = (None,)
    batch: tuple[int, ...] = (1,)
    device: tuple[str, ...] = ("cpu",)
    random_weights: bool = False
    timing: dict[str, Any] = field(default_factory=dict)
    provider: str | None = None
    scenario: tuple[str, dict[str, tuple[Any, ...]]] = (DEFAULT_SCENARIO, {})
    targets: tuple[str | None, ...] = (None,)  # an axis: "this recipe on these machines"


def _combinations(options: dict[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Every combination of the option values; options given no value (None or "") are left unset."""
    keys = [k for k, values in options.items() if values]
    return [{k: v for k, v in zip(keys, combo) if v is not None and v != ""}
            for combo in itertools.product(*(options[k] for k in keys))]


def expand_grid(grid: GridRequest) -> list[RunRequest]:
    """The grid as individual run requests, in a stable order."""
    technique_axes = [[StepSpec(name, combo) for combo in _combinations(options)] for name, options in grid.techniques]
    scenario_name, scenario_axes = grid.scenario
    requests = []
    for target, model, model_options, threads, batch, device, scenario_options in itertools.product(
            grid.targets or (None,), grid.models, _combinations(grid.model_options), grid.threads, grid.batch,
            grid.device, _combinations(scenario_axes)):
        for steps in itertools.product(*technique_axes) if technique_axes else [()]:
            requests.append(RunRequest(model=model, dataset=grid.dataset, subset=grid.subset, seed=grid.seed,
                                       techniques=tuple(steps), threads=threads, batch=batch, device=device,
                                       random_weights=grid.random_weights, timing=dict(grid.timing),
                                       provider=grid.provider, scenario=scenario_name,
                                       model_options=model_options, scenario_options=scenario_options,
                                       target=target))
    return requests


@dataclass(frozen=True)
class GridPlan:
    """A validated grid: the FP32 baselines it still needs come first."""

    runs: list[PlannedRun]
    added_baselines: int

    @property
    def cautions(self) -> list[str]:
        """What the grid's steps warn of, each once."""
        return list(dict.fromkeys(words for run in self.runs for words in run.recipe.cautions()))


@dataclass(frozen=True)
class ExploreRequest:
    """An exploration as a user asks for it: what to search, on which data, within which budget.

    `options` are ExploreSettings values (budget_runs or budget_minutes, constraints, strategy);
    `space` None means the default space for the model.
    """

    model: str
    dataset: str = "fashion-mnist"
    subset: int = 1000
    seed: int = 0
    space: SearchSpace | None = None
    options: dict[str, Any] = field(default_factory=dict)
    timing: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    random_weights: bool = False
    target: str | None = None  # where its trials run: a registered target's workers share them


@dataclass(frozen=True)
class ExplorationPlan:
    """A validated exploration: its space, what can run, and what the budget allows."""

    config: dict[str, Any]          # what is stored
    space: SearchSpace
    validity: Validity
    strategy: str                   # exhaustive, nsga2 or tpe
    budget_runs: int                # trials the budget allows (estimated for a minutes budget)
    estimate_basis: str             # where the per-trial time of a minutes budget comes from
    advice: BudgetAdvice            # how the budget splits, and whether it can learn anything

    @property
    def expected_runs(self) -> int:
        return min(self.budget_runs, len(self.validity.runnable))


def check_cuda(target: str | None, environment: dict[str, Any]) -> None:
    """Device cuda needs a GPU where the run will execute: here, or on the target as it registered itself."""
    if target is not None:
        if not environment.get("gpus"):
            raise RecipeError(f"device cuda: target {target} registered no GPU ({hardware_words(environment)}); "
                              "use device cpu or a target with a GPU")
        return
    import torch

    if not torch.cuda.is_available():
        raise RecipeError("device cuda is not available here (torch.cuda.is_available() is False); use device cpu")


def check_scenario(name: str, config: Any, fixed_batch: bool) -> None:
    """Refuse scenario settings the model cannot serve, saying what to change."""
    if SCENARIOS.get(name).merges_requests(config) and fixed_batch:
        raise RecipeError("server dynamic batching merges requests into larger calls, and this model takes a fixed "
                          "batch; set max_batch=1, or export with onnx_export:dynamic_batch=true")


def check_streams(kind: str, config: Any) -> None:
    """Refuse concurrent clients sharing one instance of a language model that holds one generation's state (a
    stateful OpenVINO request, a static cache): each client needs its own."""
    runtime = RUNTIMES.get(kind)
    clients, sessions = getattr(config, "clients", 1), getattr(config, "sessions", 1)
    if runtime.decoder is not None and not runtime.shares_generations and clients > sessions:
        raise RecipeError(f"{runtime.words} model holds one generation's state per instance, so {clients} clients "
                          f"cannot share {sessions}; give each its own: sessions={clients}")


def check_model_axes(model: str, space: SearchSpace) -> None:
    """Refuse, before anything is queued, a model-option axis value the model does not take."""
    for name, values in space.model:
        for value in values:
            try:
                parse_model(model, options={name: value})
            except InferScopeError as exc:
                raise ConfigError(f"the space's model axis {name}: {exc}") from None


def check_task_steps(task: str, recipe: Recipe) -> None:
    """Refuse, before anything is loaded, a step the task's models cannot take (the task says why)."""
    words = TASKS.get(task).words
    for step in recipe.steps:
        refusal = TASKS.get(task).refusal(step.technique)
        if refusal:
            raise RecipeError(f"{step.technique} does not apply to {words} models: {refusal}")
        if TECHNIQUES.get(step.technique).needs_train_split(step.config) and not TASKS.get(task).retrains:
            raise RecipeError(f"{step.technique} trains the model again, and InferScope retrains only "
                              f"{', '.join(t.words for _, t in TASKS if t.retrains)} models so far"
                              + ("; set recovery=none" if hasattr(step.config, "recovery") else ""))


class Planner:
    """Plans against one data location and store (the store is read for baselines and past run times)."""

    def __init__(self, settings: Settings, store: RunStore) -> None:
        self.settings, self.store = settings, store

    def plan(self, request: RunRequest) -> PlannedRun:
        """Validate everything that can be checked before work starts; raise with what to change."""
        if request.subset < 1:
            raise DataError(f"Subset size must be at least 1; got {request.subset}")
        if request.seed < 0:
            raise DataError(f"Seed must be at least 0; got {request.seed}")
        target, target_environment = request.target, self.target_environment(request.target)
        model = parse_model(request.model, random_weights=request.random_weights, options=request.model_options)
        if model.is_onnx_file:
            _, summary = validate_onnx(Path(model.name).expanduser().resolve())
            label_space, classes, source = summary.label_space, summary.num_classes, "onnx"
            task = DEFAULT_TASK  # an uploaded ONNX file is an image classifier
            if summary.batch is not None and summary.batch != request.batch:
                raise RecipeError(f"{model.name} takes a fixed batch of {summary.batch}; use --batch {summary.batch}")
            fixed_batch = summary.batch is not None
            model_name = str(Path(model.name).expanduser().resolve())
            model_sha256 = file_sha256(Path(model_name))
        else:
            entry = MODELS.get(model.name)
            classes = entry.classes(model.options) if entry.classes else None
            label_space, source, model_name = entry.label_space, entry.source, model.name
            task = entry.task
            fixed_batch, model_sha256 = False, None
        start = start_kind(source)
        runtime = parse_options(RuntimeSettings, {"threads": request.threads, "batch": request.batch,
                                                  "device": request.device, "provider": request.provider},
                                what="runtime")
        timing = parse_options(TimingConfig, request.timing, what="timing")
        recipe = Recipe(tuple(make_step(s.technique, s.options) for s in request.steps), runtime, timing)
        validate(recipe, start)
        check_task_steps(task, recipe)
        scenario, scenario_options = parse_scenario(request.scenario, request.scenario_options)
        TASKS.get(task).check_task_scenario(scenario)
        if not model.is_onnx_file:
            entry.check(parse_options(entry.options_cls, model.options, what=f"model {model.name}"), runtime)
        fixed_batch = fixed_batch or any(TECHNIQUES.get(s.technique).fixes_batch(s.config) for s in recipe.steps)
        check_scenario(scenario, scenario_options, fixed_batch)
        if runtime.device == "cuda":
            check_cuda(target, target_environment)
        check_runtime(recipe.final_kind(start), runtime)
        check_streams(recipe.final_kind(start), scenario_options)
        entry, location = parse_dataset(request.dataset)
        check_task(model_name, task, entry)
        dataset = entry.load(location, self.settings, SIZE_PROBE_SPEC)
        trained = not model.options.get("random_weights")
        check_compatible(request.model, label_space, classes or len(dataset.class_names), trained, dataset,
                         TASKS.get(task).latency_only)
        subset = evaluation_subset(dataset, request.subset, request.seed)
        if recipe.calibration_size():
            calibration_subset(dataset, subset, recipe.calibration_size(), request.seed)
        if recipe.validation_size():
            validation_subset(dataset, subset, recipe.calibration_size(), recipe.validation_size(), request.seed)
        for step in recipe.steps:
            if TECHNIQUES.get(step.technique).needs_train_split(step.config) and dataset.train is None:
                raise RecipeError(f"{step.technique} trains on a train split and {entry.name} has none; use "
                                  f"{TASKS.get(task).default_dataset}"
                                  + (" or set recovery=none" if hasattr(step.config, "recovery") else ""))
        spec = RunSpec(model=model_name, model_source=source, model_options=dict(model.options), dataset=entry.name,
                       dataset_location=dataset.location, subset_size=request.subset, subset_seed=request.seed,
                       subset_split=dataset.evaluation.name,
                       calibration_split=calibration_split_name(dataset) if recipe.calibration_size() else None,
                       recipe=recipe.steps_json(), runtime={**to_dict(runtime), "timing": to_dict(timing)},
                       scenario=scenario, scenario_config=to_dict(scenario_options), target=target,
                       model_sha256=model_sha256)
        return PlannedRun(spec, recipe)

    def target_environment(self, name: str | None) -> dict[str, Any]:
        """What the registered target `name` reported of itself (None: this machine, nothing to read), or an
        error listing the registered ones."""
        if name is None:
            return {}
        check_target_name(name)
        known = self.store.target_environments()
        if name not in known:
            listed = ", ".join(known) or "none yet"
            raise ConfigError(f"Target {name!r} is not registered (registered: {listed}); start "
                              f"`python -m core worker --target {name}` on that machine first")
        return known[name]

    def plan_grid(self, grid: GridRequest) -> GridPlan:
        """Validate every run of the grid plus the FP32 baselines it still needs (added first)."""
        requests = expand_grid(grid)
        if not requests:
            raise InferScopeError("the grid is empty: pick at least one model")
        planned = []
        for i, request in enumerate(requests):
            try:
                planned.append(self.plan(request))
            except InferScopeError as exc:
                if len(requests) == 1:
                    raise
                steps = " → ".join(s.label() for s in request.steps) or "fp32"
                where = f"run {i + 1} of {len(requests)} ({request.model} · {steps})"
                raise type(exc)(f"{where}: {exc}") from None
        baselines = self.baselines_needed(planned, requests)
        return GridPlan(baselines + planned, len(baselines))

    def baselines_needed(self, planned: list[PlannedRun], requests: list[RunRequest]) -> list[PlannedRun]:
        have = {comparable.comparison_key(r) for r in self.store.list_runs()
                if comparable.is_baseline(r) and r.status in ("done", *ACTIVE_STATUSES)}
        have |= {comparable.comparison_key(p.spec) for p in planned if comparable.is_baseline_recipe(p.spec.recipe)}
        extra = []
        for plan, request in zip(planned, requests):
            key = comparable.comparison_key(plan.spec)
            if key not in have:
                have.add(key)
                extra.append(self.plan(replace(request, techniques=())))
        return extra

    def plan_exploration(self, request: ExploreRequest) -> ExplorationPlan:
        """Validate the model, data, space and budget; say how many trials the budget allows."""
        base = self.plan(RunRequest(model=request.model, dataset=request.dataset, subset=request.subset,
                                    seed=request.seed, device=request.device, random_weights=request.random_weights,
                                    timing=dict(request.timing), target=request.target))
        start = start_kind(base.spec.model_source)
        task = DATASETS.get(base.spec.dataset).task  # the model's: planning refused a dataset of another task
        TASKS.get(task).check_analysis("exploration")
        options = parse_settings({**task_defaults(TASKS.get(task)), **request.options})
        space = request.space or default_space(start, task)
        check_model_axes(request.model, space)
        validity = runnable(space, start)
        if not validity.runnable:
            reasons = "; ".join(validity.skipped)
            raise RecipeError(f"none of the space's {space.size()} configurations can run ({reasons}); "
                              "add `none` to an axis or change the technique order")
        seconds, basis = self.seconds_per_run(base.spec)
        allowed = options.budget_runs or max(1, int(options.budget_minutes * 60 // seconds))
        strategy = choose_strategy(options.strategy, len(validity.runnable), allowed)
        config = {**to_dict(options), "model": request.model, "dataset": request.dataset, "subset": request.subset,
                  "seed": request.seed, "device": request.device, "random_weights": request.random_weights,
                  "timing": dict(request.timing), "space": space.to_dict(), "start": start,
                  "expected_runs": allowed, "target": request.target}
        return ExplorationPlan(config, space, validity, strategy, allowed, basis,
                               self.budget_advice(config, validity, allowed))

    def budget_advice(self, config: dict[str, Any], validity: Validity, budget_runs: int) -> BudgetAdvice:
        """How `budget_runs` splits into baselines to measure (stored ones reused), seeds and sampled trials."""
        plan, done = self.trial_planner(config), self.store.list_runs("done")
        here = current_fingerprint(config)
        baselines = [c for c in validity.runnable if c.is_baseline]
        reused = sum(reusable_run(plan(c), done, here) is not None for c in baselines)
        seeds = seed_configurations(validity.runnable, config["start"])
        return BudgetAdvice(budget_runs, len(baselines) - reused, reused, len(seeds), config["start"])

    def seconds_per_run(self, spec: RunSpec) -> tuple[float, str]:
        """Median wall time of finished runs of this model on this data, or a default guess."""
        key = comparable.comparison_key(spec)
        durations = sorted((r.finished_at - r.started_at).total_seconds() for r in self.store.list_runs("done")
                           if comparable.comparison_key(r) == key and r.started_at and r.finished_at)
        if not durations:
            return DEFAULT_SECONDS_PER_RUN, (f"no finished run of this model on this subset yet: assuming "
                                             f"{DEFAULT_SECONDS_PER_RUN:.0f} s per run")
        median = max(1.0, durations[len(durations) // 2])
        return median, f"median of {len(durations)} finished run(s) of this model on this subset: {median:.0f} s"

    def trial_planner(self, config: dict[str, Any]) -> Callable[[Configuration], RunSpec]:
        """What a trial measures: the exploration's model and data with one configuration."""
        def plan(trial: Configuration) -> RunSpec:
            return self.plan(RunRequest(model=config["model"], dataset=config["dataset"], subset=config["subset"],
                                        seed=config["seed"], techniques=trial.techniques, threads=trial.threads,
                                        batch=trial.batch, device=config["device"],
                                        random_weights=config["random_weights"], timing=config["timing"],
                                        target=config.get("target"),
                                        model_options=dict(trial.model_options))).spec
        return plan
