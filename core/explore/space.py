"""The search space of an exploration: ordered technique axes and runtime axes, all finite.

A space is read from YAML (or built by the Explore page) like this:

    techniques:          # axes, in recipe order; each configuration picks one choice per axis
      prune:
        - none           # skip this axis
        - structured_prune: {ratio: [0.25, 0.5], recovery: finetune}   # lists are option axes
      export: [none, onnx_export]
      quantize: [none, torch_dynamic_int8, ort_dynamic_int8, ort_static_int8]
    runtime:
      threads: [1, null] # null = all cores
      batch: [1]
    model:               # optional: the model's own options as axes (a text model's sequence length)
      max_length: [128, 256]
      padding: [fixed, dynamic]

An option value may also be a range, `{from: 0.2, to: 0.6, step: 0.2}`. Every configuration is a
recipe: the chosen steps in axis order. Orders the engine cannot run (e.g. ONNX Runtime
quantization without an ONNX export) are left out before the search starts, with the reason.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.artifacts import ArtifactKind
from core.errors import ConfigError, RecipeError
from core.options import format_spec
from core.recipe import Recipe, RuntimeSettings, parse_step, validate
from core.tasks import DEFAULT_TASK, TASKS
from core.techniques import TECHNIQUES

NONE = "none"
RUNTIME_AXES = ("threads", "batch")
MAX_CONFIGURATIONS = 100_000


MODEL_PREFIX = "model."  # a model axis among a sampler's parameters


@dataclass(frozen=True)
class Configuration:
    """One point of a space: a choice per technique axis, the runtime settings and the model options."""

    choices: tuple[tuple[str, str], ...]   # (axis, technique spec or "none"), in axis order
    threads: int | None
    batch: int
    model_options: tuple[tuple[str, Any], ...] = ()  # (model option, value), in axis order

    @property
    def techniques(self) -> tuple[str, ...]:
        return tuple(choice for _, choice in self.choices if choice != NONE)

    @property
    def is_baseline(self) -> bool:
        return not self.techniques

    def params(self) -> dict[str, str]:
        """Every axis as a string: the optuna parameters of this configuration."""
        return {**dict(self.choices), "threads": _runtime_text(self.threads), "batch": str(self.batch),
                **{MODEL_PREFIX + name: str(value) for name, value in self.model_options}}

    def label(self) -> str:
        threads = "all threads" if self.threads is None else f"{self.threads} thread(s)"
        model = "".join(f" · {name} {value}" for name, value in self.model_options)
        return f"{' → '.join(self.techniques) or 'fp32'} · {threads} · batch {self.batch}{model}"


@dataclass(frozen=True)
class SearchSpace:
    axes: tuple[tuple[str, tuple[str, ...]], ...]
    threads: tuple[int | None, ...] = (None,)
    batch: tuple[int, ...] = (1,)
    model: tuple[tuple[str, tuple[Any, ...]], ...] = ()  # model option axes: (option, values)

    @property
    def model_axes(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.model)

    def size(self) -> int:
        """Configurations in the full product, runnable or not."""
        return (math.prod(len(choices) for _, choices in self.axes) * len(self.threads) * len(self.batch)
                * math.prod(len(values) for _, values in self.model))

    def configurations(self) -> Iterator[Configuration]:
        """The full product in a stable order: baselines (all technique axes none) first."""
        names = [name for name, _ in self.axes]
        choice_lists = [sorted(choices, key=lambda c: c != NONE) for _, choices in self.axes]
        model_combos = [tuple(zip(self.model_axes, values))
                        for values in itertools.product(*(values for _, values in self.model))]
        for picks in itertools.product(*choice_lists):
            for model_options, threads, batch in itertools.product(model_combos, self.threads, self.batch):
                yield Configuration(tuple(zip(names, picks)), threads, batch, model_options)

    def distributions(self) -> dict[str, tuple[str, ...]]:
        """Parameter name -> its choices as strings (the categorical axes the sampler sees)."""
        return {**dict(self.axes), "threads": tuple(_runtime_text(t) for t in self.threads),
                "batch": tuple(str(b) for b in self.batch),
                **{MODEL_PREFIX + name: tuple(str(v) for v in values) for name, values in self.model}}

    def configuration(self, params: dict[str, str]) -> Configuration:
        """The configuration a sampler's parameters name (the inverse of Configuration.params)."""
        threads = {_runtime_text(t): t for t in self.threads}[params["threads"]]
        model_options = tuple((name, {str(v): v for v in values}[params[MODEL_PREFIX + name]])
                              for name, values in self.model)
        return Configuration(tuple((name, params[name]) for name, _ in self.axes), threads, int(params["batch"]),
                             model_options)

    def to_dict(self) -> dict[str, Any]:
        data = {"techniques": {name: list(choices) for name, choices in self.axes},
                "runtime": {"threads": list(self.threads), "batch": list(self.batch)}}
        return {**data, "model": {name: list(values) for name, values in self.model}} if self.model else data

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None, width=110)


@dataclass(frozen=True)
class Validity:
    runnable: list[Configuration]
    skipped: dict[str, int]   # reason -> configurations left out for it


def runnable(space: SearchSpace, start: ArtifactKind) -> Validity:
    """Split the space into configurations the engine can run and the reasons for the others."""
    if space.size() > MAX_CONFIGURATIONS:
        raise ConfigError(f"the space has {space.size():,} configurations; keep it under "
                              f"{MAX_CONFIGURATIONS:,} (fewer axes or option values)")
    ok, skipped = [], {}
    for config in space.configurations():
        try:
            runtime = RuntimeSettings(threads=config.threads, batch=config.batch)
            validate(Recipe(tuple(parse_step(spec) for spec in config.techniques), runtime), start)
        except RecipeError as exc:
            reason = str(exc).split(";")[0]
            skipped[reason] = skipped.get(reason, 0) + 1
        else:
            ok.append(config)
    return Validity(ok, skipped)


def parse_space(data: Any, *, where: str = "the space") -> SearchSpace:
    """A space from its dict form (parsed YAML), every spec checked; errors say what to change."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be a mapping with `techniques` and `runtime`")
    unknown = set(data) - {"techniques", "runtime", "model"}
    if unknown:
        raise ConfigError(f"{where} has unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
                              "use `techniques`, `runtime` and `model`")
    technique_axes = data.get("techniques") or {}
    if not isinstance(technique_axes, dict):
        raise ConfigError(f"{where}: `techniques` maps axis names to lists of choices")
    axes = []
    for name, items in technique_axes.items():
        if not isinstance(items, list) or not items:
            raise ConfigError(f"{where}: axis {name!r} needs a list of choices (use `none` to allow skipping it)")
        choices = [spec for item in items for spec in _expand_choice(item, f"{where}, axis {name!r}")]
        if len(set(choices)) != len(choices):
            raise ConfigError(f"{where}: axis {name!r} lists a choice twice")
        if name in RUNTIME_AXES:
            raise ConfigError(f"{where}: {name!r} is a runtime axis; put it under `runtime`")
        axes.append((str(name), tuple(choices)))
    runtime = data.get("runtime") or {}
    if not isinstance(runtime, dict) or set(runtime) - set(RUNTIME_AXES):
        raise ConfigError(f"{where}: `runtime` takes `threads` and `batch` lists")
    threads = tuple(_runtime_values(runtime.get("threads", [None]), "threads", where, allow_none=True))
    batch = tuple(_runtime_values(runtime.get("batch", [1]), "batch", where, allow_none=False))
    return SearchSpace(tuple(axes), threads, batch, _model_axes(data.get("model") or {}, where))


def _model_axes(model: Any, where: str) -> tuple[tuple[str, tuple[Any, ...]], ...]:
    """`model: {option: [values]}`: each option of the model an axis; the values are checked when a trial is
    planned against the model's own options."""
    if not isinstance(model, dict):
        raise ConfigError(f"{where}: `model` maps the model's options to lists of values, e.g. "
                          "{max_length: [128, 256]}")
    axes = []
    for name, raw in model.items():
        values = raw if isinstance(raw, list) else [raw]
        if not values or not all(isinstance(v, (str, int, float, bool)) for v in values):
            raise ConfigError(f"{where}: model option {name!r} needs a list of plain values, got {raw!r}")
        if len({str(v) for v in values}) != len(values):
            raise ConfigError(f"{where}: model option {name!r} lists a value twice")
        axes.append((str(name), tuple(values)))
    return tuple(axes)


def load_space(path: str | Path) -> SearchSpace:
    """A space from a YAML file."""
    import yaml

    path = Path(path).expanduser()
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read the space file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    return parse_space(data, where=str(path))


def space_from_text(text: str) -> SearchSpace:
    """A space from YAML text (the Explore page's editor)."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"the space is not valid YAML: {exc}") from None
    return parse_space(data)


def _expand_choice(item: Any, where: str) -> list[str]:
    """`none`, a spec string, or {technique: {option: value | [values] | {from, to, step}}} -> specs."""
    if isinstance(item, str):
        if item != NONE:
            parse_step(item)
        return [item]
    if not isinstance(item, dict) or len(item) != 1:
        raise ConfigError(f"{where}: a choice is `none`, a technique spec, or {{technique: {{option: values}}}}; "
                              f"got {item!r}")
    (name, options), = item.items()
    options = options or {}
    if not isinstance(options, dict):
        raise ConfigError(f"{where}: the options of {name} must be a mapping, got {options!r}")
    keys = list(options)
    values = [_option_values(options[k], f"{where}, {name}.{k}") for k in keys]
    specs = [format_spec(str(name), dict(zip(keys, combo))) for combo in itertools.product(*values)]
    for spec in specs:
        parse_step(spec)
    return specs


def _option_values(raw: Any, where: str) -> list[Any]:
    if isinstance(raw, list):
        if not raw:
            raise ConfigError(f"{where}: an empty list of values")
        return raw
    if isinstance(raw, dict):
        if set(raw) != {"from", "to", "step"}:
            raise ConfigError(f"{where}: a range is {{from: A, to: B, step: S}}")
        low, high, step = raw["from"], raw["to"], raw["step"]
        if not all(isinstance(v, (int, float)) for v in (low, high, step)) or step <= 0 or high < low:
            raise ConfigError(f"{where}: a range needs numbers with from <= to and step > 0")
        count = int(math.floor((high - low) / step + 1e-9)) + 1
        values = [round(low + i * step, 10) for i in range(count)]
        return [int(v) if all(isinstance(x, int) for x in (low, step)) else v for v in values]
    return [raw]


def _runtime_values(raw: Any, name: str, where: str, *, allow_none: bool) -> list[Any]:
    values = raw if isinstance(raw, list) else [raw]
    out = []
    for value in values:
        if value is None and allow_none:
            out.append(None)
        elif isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            out.append(value)
        else:
            extra = " or null (all cores)" if allow_none else ""
            raise ConfigError(f"{where}: runtime {name} takes whole numbers >= 1{extra}; got {value!r}")
    if not out or len(set(out)) != len(out):
        raise ConfigError(f"{where}: runtime {name} needs distinct values")
    return out


def _runtime_text(value: int | None) -> str:
    return "all" if value is None else str(value)


# The default spaces: what a user of each kind of model would try first, from what each technique declares
# (`Technique.explore`: its axis, the specs offered, for which starting models and inputs) and what the model's
# task refuses or adds (`Task.explore_model`: a text model's sequence length and padding). The engine is an axis:
# `none` leaves the model where its steps put it (eager torch, or onnxruntime after an export), `openvino` runs it
# in OpenVINO Runtime (from the ONNX graph, or converted from torch); `compress` compresses the weights an engine
# holds (a language model's NNCF INT4 in OpenVINO). Axes come in this order; values in the registry's order (its
# canonical step order).
DEFAULT_AXES = ("prune", "distill", "export", "optimize", "quantize", "engine", "compress")


def default_space(start: ArtifactKind, task: str = DEFAULT_TASK) -> SearchSpace:
    """The space offered for a model of `task` that starts as `start` (torch or onnx)."""
    kind = TASKS.get(task)
    offered: dict[str, list[str]] = {axis: [] for axis in DEFAULT_AXES}
    for name, technique in TECHNIQUES:
        explored = technique.explore
        if explored is not None and start in explored.starts and kind.refusal(name) is None:
            offered.setdefault(explored.axis, []).extend(explored.offered(name, kind.input_kind))
    return SearchSpace(axes=tuple((axis, (NONE, *specs)) for axis, specs in offered.items() if specs),
                       threads=(1, None), batch=(1,), model=kind.explore_model)
