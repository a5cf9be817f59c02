"""Pure functions the pages use to look at runs: baselines, labels, plot points, diffs (the wording of a drop
and a trade is core.wording's).

No I/O and no streamlit: everything here takes plain RunRecords and returns plain data, so it is
unit-tested directly and the pages stay free of logic.
"""
from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from core.bench.percentiles import min_samples, supported
from core.comparable import baselines, comparison_key
from core.datasets import DATASETS
from core.metrics import (
    CATALOGUE,
    DEFAULT_LATENCY,
    LATENCY_METRICS,
    OBJECTIVES,
    PER_CALL_METRICS,
    QUALITY_METRICS,
)
from core.pareto import Direction, front_indices
from core.store import CurvePoint, RunRecord, hardware_words
from core.tasks import DEFAULT_TASK, TASKS, Task
from core.techniques import recipe_precision
from core.wording import accuracy_drop, drop_violation, limit_violation

LOCAL_TARGET = "this machine"  # how work addressed to no target reads: the local worker takes it
def target_words(name: str | None) -> str:
    """A target's name as pages say it: no target is this machine."""
    return name or LOCAL_TARGET


def target_of(run: RunRecord) -> str:
    """Where a run was (or will be) measured, in words."""
    return target_words(run.target)


def run_task(run: RunRecord) -> Task:
    """The task a run measured: its dataset's (a dataset no longer registered: image classification)."""
    return TASKS.get(DATASETS.get(run.dataset).task if run.dataset in DATASETS else DEFAULT_TASK)


def task_of(run: RunRecord) -> str:
    """The task a run measured, in words."""
    return run_task(run).words


def facets(runs: Sequence[RunRecord], by_target: bool) -> list[tuple[str | None, list[RunRecord]]]:
    """The charts a set of runs is drawn on: one per task (image and text runs never share a front), and one per
    target within it unless `by_target` is off; each with its title (None when one chart shows everything)."""
    def key(run: RunRecord) -> tuple[str, str]:
        return task_of(run), target_of(run) if by_target else ""

    keys = sorted({key(r) for r in runs}, key=lambda k: (k[0], k[1] != LOCAL_TARGET, k[1]))
    if len(keys) <= 1:
        return [(None, list(runs))]
    tasks = {task for task, _ in keys}
    titles = {k: " · ".join(part for part in ((k[0].capitalize() if len(tasks) > 1 else ""),
                                             (f"Target: {k[1]}" if k[1] and len(keys) > len(tasks) else "")) if part)
              for k in keys}
    return [(titles[k], [r for r in runs if key(r) == k]) for k in keys]


def axes_for(runs: Sequence[RunRecord], x: str, y: str) -> tuple[str, str]:
    """The axes one chart of `runs` (runs of one task) is drawn on: `x` and `y` when some run has both, else its
    task's own front (`Task.front`: a language model has no top-1, a classifier no perplexity)."""
    if not runs or any(r.metrics.get(x) is not None and r.metrics.get(y) is not None for r in runs):
        return x, y
    return run_task(runs[0]).front


def targets_in_order(runs: Iterable[RunRecord]) -> list[str]:
    """The targets of `runs` in words: this machine first, then the others by name."""
    return sorted({target_of(r) for r in runs}, key=lambda t: (t != LOCAL_TARGET, t))


def filter_runs(runs: Sequence[RunRecord], *, models=(), datasets=(), recipes=(), statuses=(),
                tags=(), scenarios=(), run_ids: set[int] | None = None, targets=()) -> list[RunRecord]:
    """Runs matching every non-empty filter (tags: any of them; `run_ids`, e.g. an exploration's runs)."""
    return [r for r in runs
            if (not models or r.model in models) and (not datasets or r.dataset in datasets)
            and (not recipes or r.recipe_summary in recipes) and (not statuses or r.status in statuses)
            and (not tags or set(tags) & set(r.tags)) and (not scenarios or r.scenario in scenarios)
            and (run_ids is None or r.id in run_ids) and (not targets or target_of(r) in targets)]


def quality_words(run: RunRecord) -> str:
    """The run's quality on its task's front, as a picker shows it: "top-1 91.20%", "perplexity 172.4"."""
    metric = CATALOGUE[run_task(run).front[1]]
    value = run.metrics.get(metric.name)
    shown = "n/a" if value is None else metric.format(value) + ("%" if metric.unit == "%" else "")
    return f"{metric.words} {shown}"


# -- what a run is, in readable fields: labels, colours and the Compare diff all read these --------------
UNSET_WORDS = {"threads": "all cores", "provider": "device default"}


def configuration(run: RunRecord) -> dict[str, str]:
    """A run's configuration as readable fields, in a stable order: model, techniques, each step's and the
    model's options, data, runtime, scenario and timing. Unset values read as what they mean."""
    fields = {"model": run.model, "techniques": run.recipe_summary}
    fields |= {f"model {_words(k)}": _show(v) for k, v in run.model_options.items()}
    for step in run.recipe:
        fields |= {f"{step['technique']} {_words(k)}": _show(v) for k, v in (step.get("config") or {}).items()}
    fields |= {"dataset": run.dataset_spec, "subset": str(run.subset_size), "subset seed": str(run.subset_seed)}
    fields["target"] = target_of(run)
    for key, value in run.runtime.items():
        if key != "timing":
            fields[_words(key)] = UNSET_WORDS.get(key, "default") if value is None else _show(value)
    fields["scenario"] = run.scenario
    fields |= {f"{run.scenario} {_words(k)}": _show(v) for k, v in run.scenario_config.items()}
    fields |= {f"timing {_words(k)}": _show(v) for k, v in (run.runtime.get("timing") or {}).items()}
    return fields


def across_targets(run: RunRecord, runs: Sequence[RunRecord]) -> list[dict[str, Any]]:
    """The hardware-selection view: `run`'s configuration as measured on every target (done runs, the newest per
    target), each with its speed-up against the FP32 baseline of its own target."""
    same = {k: v for k, v in configuration(run).items() if k != "target"}
    base = baselines(runs)
    newest: dict[str | None, RunRecord] = {}
    for other in runs:
        if other.status == "done" and {k: v for k, v in configuration(other).items() if k != "target"} == same:
            if other.target not in newest or other.id > newest[other.target].id:
                newest[other.target] = other
    rows = []
    for target, other in sorted(newest.items(), key=lambda item: (item[0] is not None, item[0] or "")):
        baseline = base.get(comparison_key(other))
        latency = other.metrics.get(DEFAULT_LATENCY)
        reference = baseline.metrics.get(DEFAULT_LATENCY) if baseline else None
        rows.append({"target": target_words(target), "run": other.id, "hardware": hardware_words(other.environment),
                     "speed-up vs its FP32": reference / latency if latency and reference else None,
                     **{CATALOGUE[m].label: other.metrics.get(m) for m in ACROSS_TARGET_METRICS},
                     "noisy": other.noisy})
    return rows


ACROSS_TARGET_METRICS = ("latency_p50_ms", "latency_p99_ms", "throughput_ips", "top1")


def varying_fields(runs: Sequence[RunRecord]) -> list[str]:
    """The configuration fields whose value differs among `runs`, in configuration order."""
    configs = [configuration(r) for r in runs]
    keys = list(dict.fromkeys(k for c in configs for k in c))
    return [k for k in keys if len({c.get(k, "") for c in configs}) > 1]


def run_labels(runs: Sequence[RunRecord]) -> dict[int, str]:
    """Each run's label: "resnet8 · onnx_export → ort_static_int8", then the fields that tell it apart from
    the other runs with that same start (e.g. "· threads 2, batch 8"), so grid runs never look alike."""
    groups: dict[str, list[RunRecord]] = {}
    for run in runs:
        groups.setdefault(f"{run.model} · {run.recipe_summary}", []).append(run)
    labels = {}
    for start, group in groups.items():
        differing = varying_fields(group) if len(group) > 1 else []
        for run in group:
            config = configuration(run)
            parts = [f"{k} {config[k]}" for k in differing if k in config]  # a field it lacks tells it apart too
            labels[run.id] = start + (" · " + ", ".join(parts) if parts else "")
    return labels


def _words(name: str) -> str:
    """`intra_op_threads` -> "intra op threads"."""
    return name.replace("_", " ")


ENGINE_WORDS = {"torch-eager": "eager PyTorch", "torch-compiled": "compiled PyTorch", "onnxruntime": "ONNX Runtime",
                "openvino": "OpenVINO"}


def engine_words(run: RunRecord) -> str:
    """The engine a run was measured in, as a sentence names it: "eager PyTorch", "ONNX Runtime"."""
    return ENGINE_WORDS.get(run.engine or "", run.engine or "an unrecorded engine")


def describe_run(run: RunRecord) -> str:
    """"run 3 (onnx_export → ort_static_int8)": how a message names a run."""
    return f"run {run.id} ({run.recipe_summary})"


def metric_text(run: RunRecord, name: str) -> str:
    """A metric as a user reads it: "0.121 ms (0.118–0.125)" with its 95% interval where it has one; a
    tail percentile the samples did not support reads "not reported: needs 662 timed calls"."""
    metric, value = OBJECTIVES.get(name) or CATALOGUE[name], run.metrics.get(name)
    unit = f" {metric.unit}" if metric.unit and metric.unit != "%" else metric.unit
    if value is None:
        q = metric.percentile
        count = run.metrics.get("latency_count")
        if q is not None and count is not None and run.status == "done" and not supported(q, count):
            return f"not reported: {count} timed calls, needs {min_samples(q)}"
        return "–"
    text = metric.format(value) + unit
    low, high = (run.metrics.get(k) for k in metric.interval) if metric.interval else (None, None)
    return text + (f" ({metric.format(low)}–{metric.format(high)})" if low is not None and high is not None else "")


def roofline_row(run: RunRecord) -> dict[str, Any] | None:
    """A run against this machine's peak for its precision: achieved GOP/s (its model's FLOPs per image
    times images per second) and the share of the peak; None when the FLOPs or the peaks are unknown."""
    from core.bench.roofline import achieved, beyond_peak

    environment = run.environment or {}
    precision, peaks = recipe_precision(run.recipe), environment.get("peaks_gops") or {}
    found = achieved(environment.get("model_gflops"), run.metrics.get("throughput_ips"), peaks.get(precision))
    if found is None or not peaks:
        return None
    rate, share = found
    peak = peaks.get(precision)
    return {"run": run.id, "precision": precision, "achieved GOP/s": rate, "peak GOP/s": peak,
            "share of peak %": share,
            "note": f"faster than the {precision} microbenchmark: its GEMM missed this CPU's fast path, so the peak "
                    "is unknown" if beyond_peak(rate, peak) else ""}


def needs_log_axis(sample_lists: Sequence[Sequence[float]], spread: float = 10.0) -> bool:
    """True when the samples span more than `spread`x: on a linear axis the fast runs collapse at 0."""
    values = [v for samples in sample_lists for v in samples if v > 0 and math.isfinite(v)]
    return bool(values) and max(values) / min(values) > spread


def log_range(values: Iterable[float | None], pad: float = 0.08) -> list[float] | None:
    """A log axis range (log10 units) that holds every positive, finite value with a margin; None when
    there is none. Plotly's own autorange on a log axis can run to 1e53 when a trace or shape is odd."""
    finite = [v for v in values if v is not None and v > 0 and math.isfinite(v)]
    if not finite:
        return None
    low, high = math.log10(min(finite)), math.log10(max(finite))
    margin = max(pad * (high - low), 0.05)
    return [low - margin, high + margin]


def log_axis(values: Iterable[float | None]) -> dict[str, Any]:
    """A log axis's layout: its range (`log_range`) and ticks at 1, 2 and 5 of each decade (decades only
    over more than three) — every digit, or values
    rounded to two significant digits, where that leaves fewer than three — each labelled with its full value:
    plotly's own minor labels are bare digits ("0.1, 2, 3 … 9, 1"), so 2 reads left of 1. Empty when no value is
    positive and finite."""
    span = log_range(values)
    if span is None:
        return {}
    low, high = span
    ticks: list[float] = []
    for digits in (((1,) if high - low > 3 else (1, 2, 5)), range(1, 10)):
        ticks = [m * 10.0 ** k for k in range(math.floor(low), math.ceil(high) + 1) for m in digits
                 if low <= math.log10(m * 10.0 ** k) <= high]
        if len(ticks) >= 3:
            break
    else:  # narrower than one digit step: five evenly spaced values, rounded
        ticks = sorted({float(f"{10 ** (low + (high - low) * (i + 0.5) / 5):.2g}") for i in range(5)})
    return {"type": "log", "range": span, "tickmode": "array", "tickvals": ticks,
            "ticktext": [f"{round(v, 12):g}" for v in ticks]}


@dataclass(frozen=True)
class LogHistogram:
    """Bars on shared log-spaced bins: plotly bins linearly, which a log axis turns into a few giant bars."""

    centers: list[float]        # geometric centre of each bin
    widths: list[float]         # each bin's width, in data units
    counts: list[list[int]]     # per sample list, one count per bin


def log_histogram(sample_lists: Sequence[Sequence[float]], bins: int = 60) -> LogHistogram:
    """Shared log-spaced bin edges over all the runs' samples and each run's counts."""
    import numpy as np

    values = [v for samples in sample_lists for v in samples if v > 0]
    edges = np.geomspace(min(values), max(values) * 1.0001, bins + 1)
    return LogHistogram(np.sqrt(edges[:-1] * edges[1:]).tolist(), np.diff(edges).tolist(),
                        [np.histogram(samples, bins=edges)[0].tolist() for samples in sample_lists])


def noisy_summary(runs: Sequence[RunRecord]) -> str | None:
    """One sentence naming the runs timed on a busy machine, with their figures; None when none was."""
    noisy = [r for r in runs if r.noisy]
    if not noisy:
        return None
    figures = ", ".join(f"run {r.id} ({r.metrics.get('other_cpu_pct') or 0:.0f}% of a core)" for r in noisy)
    return (f"Timed while other processes kept the machine busy: {figures}. Their latencies may be inflated; "
            "measure them again on a quiet machine. They are never recommended unless you include them.")


def main_fingerprint(runs: Sequence[RunRecord]) -> str | None:
    """The environment most runs were measured in; runs from others are not comparable with them."""
    counts = Counter(r.env_fingerprint for r in runs if r.env_fingerprint)
    return counts.most_common(1)[0][0] if counts else None


@dataclass(frozen=True)
class PlotPoint:
    run: RunRecord
    x: float
    y: float
    allowed: bool           # meets the constraints
    on_front: bool
    comparable: bool        # measured in the main environment
    drop: float | None      # accuracy points below the FP32 baseline
    reason: str             # why a point is greyed
    scale: float = 1.0      # factor applied to the run's latency metrics for x (1/batch per image)


def x_scale(run: RunRecord, x: str, per_image: bool) -> float:
    """1/batch when latency per call should be shown per image, else 1."""
    batch = run.runtime.get("batch") or 1
    return 1.0 / batch if per_image and x in PER_CALL_METRICS else 1.0


def plot_points(runs: Sequence[RunRecord], x: str, y: str, *, max_latency_ms: float | None = None,
                max_drop: float | None = None, per_image: bool = False) -> list[PlotPoint]:
    """Done runs that have both metrics, with constraint flags and the front among allowed runs.

    `max_latency_ms` bounds the x metric when it is a latency; `max_drop` bounds the loss of the y
    metric (an accuracy) against the same model's FP32 baseline on the same subset. `per_image`
    divides latencies by the run's batch size, so runs at different batch sizes compare.
    """
    done = [r for r in runs if r.status == "done" and r.metrics.get(x) is not None and r.metrics.get(y) is not None]
    base = baselines(runs)
    main = main_fingerprint(done)
    flagged = []
    for run in done:
        drop = accuracy_drop(run, base.get(comparison_key(run)), y) if y in QUALITY_METRICS else None
        reasons = []
        x_value = run.metrics[x] * x_scale(run, x, per_image)
        if max_latency_ms is not None and x in LATENCY_METRICS and x_value > max_latency_ms:
            reasons.append(limit_violation(x, x_value, max_latency_ms))
        if max_drop is not None and drop is not None and drop > max_drop:
            reasons.append(drop_violation(drop, max_drop, y))
        flagged.append((run, drop, "; ".join(reasons)))
    allowed = [i for i, (_, _, reason) in enumerate(flagged) if not reason]
    directions = [OBJECTIVES[x].direction, OBJECTIVES[y].direction]
    xs = [run.metrics[x] * x_scale(run, x, per_image) for run, _, _ in flagged]
    front = {allowed[k] for k in front_indices([(xs[i], flagged[i][0].metrics[y]) for i in allowed], directions)}
    return [PlotPoint(run, float(xs[i]), float(run.metrics[y]), not reason, i in front,
                      run.env_fingerprint == main, drop, reason, x_scale(run, x, per_image))
            for i, (run, drop, reason) in enumerate(flagged)]


def front_line(points: Sequence[PlotPoint], x: str) -> list[tuple[float, float]]:
    """Front points sorted along x, for a step line."""
    reverse = OBJECTIVES[x].direction is Direction.MAX
    return sorted(((p.x, p.y) for p in points if p.on_front), reverse=reverse)


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts/lists -> {"a.b[0].c": value}."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list) and data and any(isinstance(v, (dict, list)) for v in data):
        for i, value in enumerate(data):
            out.update(flatten(value, f"{prefix}[{i}]"))
    else:
        out[prefix] = data
    return out


def settings_diff(runs: Sequence[RunRecord]) -> list[dict[str, Any]]:
    """Configuration and environment side by side in readable field names ("threads", "environment ›
    cpu model"); `differs` marks the fields whose value varies among the runs."""
    flat = [configuration(r) | {" › ".join(["environment", *map(_words, k.split("."))]): _show(v)
                                for k, v in flatten(r.environment or {}).items()} for r in runs]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    rows = []
    for key in keys:
        values = [f.get(key, "") for f in flat]
        rows.append({"field": key, **{f"run {r.id}": v for r, v in zip(runs, values)},
                     "differs": len(set(values)) > 1})
    return rows


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}" if math.isfinite(value) else str(value)
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Flips:
    """Where a run's top-1 differs from a reference run's on the same images."""

    indices: list[int]          # positions in the subset whose top-1 changed
    truth: list[int | None]     # their true class (None without labels)
    reference: list[int]        # the reference's top-1 there
    run: list[int]              # the run's top-1 there
    fixed: int                  # changed to the true class
    broken: int                 # changed away from the true class
    confusion_change: list[list[int]]  # run's confusion matrix less the reference's (rows: true, columns: predicted)


def flips(reference: Sequence[int], run: Sequence[int], labels: Sequence[int] | None, classes: int) -> Flips:
    """The images whose top-1 changed between two runs on the same subset, and the confusion matrix change."""
    import numpy as np

    ref, new = np.asarray(reference), np.asarray(run)
    changed = np.flatnonzero(ref != new)
    truth = None if labels is None else np.asarray(labels)
    change = np.zeros((classes, classes), dtype=int)
    if truth is not None:
        np.add.at(change, (truth, new), 1)
        np.add.at(change, (truth, ref), -1)
    return Flips(changed.tolist(), [None] * len(changed) if truth is None else truth[changed].tolist(),
                 ref[changed].tolist(), new[changed].tolist(),
                 0 if truth is None else int(np.sum((new[changed] == truth[changed]))),
                 0 if truth is None else int(np.sum((ref[changed] == truth[changed]))), change.tolist())


def ecdf(samples: Sequence[float]) -> tuple[list[float], list[float]]:
    """Sorted samples and their cumulative share, for an ECDF plot."""
    ordered = sorted(samples)
    n = len(ordered)
    return ordered, [(i + 1) / n for i in range(n)]


@dataclass(frozen=True)
class CurveSummary:
    saturation: CurvePoint                  # where more offered load stops adding throughput
    best_under_bound: CurvePoint | None     # the highest achieved rate whose p99 meets the bound


# A point is at saturation once it achieves this share of the highest rate of the sweep.
SATURATION_SHARE = 0.95


def curve_summary(points: Sequence[CurvePoint], bound_ms: float) -> CurveSummary:
    """The saturation point and the highest rate that keeps p99 under `bound_ms` (no request dropped)."""
    ordered = sorted(points, key=lambda p: p.target_rate_rps)
    peak = max(p.achieved_rate_rps for p in ordered)
    saturation = next(p for p in ordered if p.achieved_rate_rps >= SATURATION_SHARE * peak)
    within = [p for p in ordered if p.latency_p99_ms <= bound_ms and not p.dropped]
    return CurveSummary(saturation, max(within, key=lambda p: p.achieved_rate_rps) if within else None)


def flat_run(run: RunRecord) -> dict[str, Any]:
    """One flat row per run (JSON fields as text), for CSV."""
    data = run.to_json()
    metrics = data.pop("metrics")
    for key in ("recipe", "runtime", "model_options", "tags"):
        data[key] = json.dumps(data[key])
    data["notes"] = " | ".join(data["notes"])
    return {**data, **metrics}


def runs_csv(runs: Sequence[RunRecord]) -> str:
    """All fields and metrics of `runs` as CSV text."""
    buffer = io.StringIO()
    rows = [flat_run(r) for r in runs]
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["id"])
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
