"""What an exploration's runs say: feasibility, the front, hypervolume over time, recommendations.

Pure functions over RunRecords (no I/O), shared by the search loop, the CLI and the pages.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from core.comparable import baselines, comparison_key, is_lossless_recipe, recommendable
from core.metrics import DEFAULT_ACCURACY, DEFAULT_LATENCY, OBJECTIVES
from core.pareto import Direction, front_indices
from core.quoting import paired_words
from core.store import RunRecord
from core.views import describe_run, engine_words
from core.wording import (
    accuracy_drop,
    accuracy_words,
    drop_unit,
    drop_violation,
    limit_violation,
    trade,
)


@dataclass(frozen=True)
class Constraints:
    """Limits a configuration must meet; None leaves a limit off."""

    max_drop: float | None = None          # below the FP32 baseline, in wording.drop_unit(accuracy)
    max_latency_ms: float | None = None    # on `latency` (per call)
    max_size_mb: float | None = None
    latency: str = DEFAULT_LATENCY
    accuracy: str = DEFAULT_ACCURACY

    def values(self, run: RunRecord, baseline: RunRecord | None) -> dict[str, float]:
        """Each set limit as value - limit (<= 0 is met): optuna's constraint convention."""
        out = {}
        if self.max_drop is not None:
            drop = accuracy_drop(run, baseline, self.accuracy)
            out["drop"] = math.inf if drop is None else drop - self.max_drop
        if self.max_latency_ms is not None:
            out["latency"] = run.metrics[self.latency] - self.max_latency_ms
        if self.max_size_mb is not None:
            size = run.metrics.get("size_mb")
            out["size"] = math.inf if size is None else size - self.max_size_mb
        return out

    def violations(self, run: RunRecord, baseline: RunRecord | None) -> list[str]:
        """Why a done run misses the constraints, in words (empty when it meets them)."""
        words = {"drop": lambda v: drop_violation(v + self.max_drop, self.max_drop, self.accuracy),
                 "latency": lambda v: limit_violation(self.latency, v + self.max_latency_ms, self.max_latency_ms),
                 "size": lambda v: limit_violation("size_mb", v + self.max_size_mb, self.max_size_mb)}
        return [words[k](v) if math.isfinite(v) else f"{k} not measurable"
                for k, v in self.values(run, baseline).items() if v > 0]


def accuracy_metric(runs: Sequence[RunRecord]) -> str:
    """top1 when the data has labels, else perplexity for language models, else agreement with the FP32 model."""
    done = [r for r in runs if r.status == "done"]
    return next((m for m in ("top1", "perplexity") if any(r.metrics.get(m) is not None for r in done)), "agreement")


def gain(run: RunRecord, constraints: Constraints) -> float:
    """The run's quality as a number to maximize: accuracy as it is, a perplexity negated (lower is better)."""
    value = run.metrics[constraints.accuracy]
    return value if OBJECTIVES[constraints.accuracy].direction is Direction.MAX else -value


def scored(runs: Sequence[RunRecord], constraints: Constraints) -> list[RunRecord]:
    """Done runs with both objectives measured."""
    return [r for r in runs if r.status == "done" and r.metrics.get(constraints.latency) is not None
            and r.metrics.get(constraints.accuracy) is not None]


def feasible(runs: Sequence[RunRecord], constraints: Constraints) -> list[RunRecord]:
    """Scored runs meeting the constraints (the accuracy drop counts against the FP32 baseline among `runs`)."""
    base = baselines(runs)
    return [r for r in scored(runs, constraints) if not constraints.violations(r, base.get(comparison_key(r)))]


def front(runs: Sequence[RunRecord], constraints: Constraints) -> list[RunRecord]:
    """The feasible runs no other feasible run dominates, fastest first."""
    ok = feasible(runs, constraints)
    points = [(r.metrics[constraints.latency], r.metrics[constraints.accuracy]) for r in ok]
    chosen = [ok[i] for i in front_indices(points, [Direction.MIN, OBJECTIVES[constraints.accuracy].direction])]
    return sorted(chosen, key=lambda r: (r.metrics[constraints.latency], r.id))


def hypervolume(points: Sequence[tuple[float, float]], reference: tuple[float, float]) -> float:
    """Area dominated by (latency to minimize, accuracy to maximize) points, bounded by `reference`.

    Two objectives need only a sweep, so this is computed here rather than through optuna's
    private hypervolume module.
    """
    ref_x, ref_y = reference
    inside = sorted((x, y) for x, y in points if x < ref_x and y > ref_y)
    area, best_y = 0.0, ref_y
    for i, (x, y) in enumerate(inside):
        best_y = max(best_y, y)
        next_x = inside[i + 1][0] if i + 1 < len(inside) else ref_x
        area += (next_x - x) * (best_y - ref_y)
    return area


@dataclass(frozen=True)
class HypervolumePoint:
    seconds: float      # since the exploration's first trial started
    trials: int         # finished trials so far
    share: float        # hypervolume as a share of the final bounding box (0..1)


def hypervolume_history(runs: Sequence[RunRecord], constraints: Constraints,
                        since: datetime | None = None) -> list[HypervolumePoint]:
    """Hypervolume of the feasible front after each finished trial, in finishing order.

    The box runs from the best to 1.1x the worst feasible latency and from the worst to the best
    feasible quality (`gain`: a perplexity counts down), so the last point says how much of it the front
    covers. Time counts from `since` (the exploration's start; a reused baseline finished before it counts
    at 0), else from the first run's start.
    """
    finished = sorted((r for r in runs if r.finished_at is not None and r.status in ("done", "failed")),
                      key=lambda r: r.finished_at)
    ok = {r.id for r in feasible(finished, constraints)}
    values = [(r.metrics[constraints.latency], gain(r, constraints)) for r in finished if r.id in ok]
    if not values or not finished:
        return []
    xs, ys = [v[0] for v in values], [v[1] for v in values]
    ref = (max(xs) * 1.1, min(ys) - max(0.1, 0.05 * (max(ys) - min(ys))))
    box = (ref[0] - min(xs)) * (max(ys) - ref[1])
    starts = [r.started_at for r in finished if r.started_at is not None]
    origin = since or (min(starts) if starts else finished[0].finished_at)
    history, seen = [], []
    for count, run in enumerate(finished, start=1):
        if run.id in ok:
            seen.append((run.metrics[constraints.latency], gain(run, constraints)))
        history.append(HypervolumePoint(max(0.0, (run.finished_at - origin).total_seconds()), count,
                                        hypervolume(seen, ref) / box if box > 0 else 0.0))
    return history


@dataclass(frozen=True)
class Pick:
    run: RunRecord
    reason: str


@dataclass(frozen=True)
class Recommendations:
    fastest: Pick | None     # the fastest configuration meeting the constraints
    knee: Pick | None        # the front's point of best balance (needs three front points)
    front: list[RunRecord]


def recommend(runs: Sequence[RunRecord], constraints: Constraints, *, include_noisy: bool = False) -> Recommendations:
    """The fastest feasible configuration and the knee of the feasible front, each with a reason.

    Runs behind a response cache are left out: their speed comes from repeated queries, and an
    exported file carries the model, not the cache. So are runs timed on a busy machine (noisy),
    unless `include_noisy`: their latency is not the configuration's.
    """
    usable = [r for r in runs if recommendable(r) and (include_noisy or not r.noisy)]
    line = front(usable, constraints)
    if not line:
        return Recommendations(None, None, [])
    base = baselines(runs)
    fastest = Pick(line[0], _fastest_reason(line, constraints, base.get(comparison_key(line[0])),
                                            fastest_lossless(usable, line[0], constraints)))
    knee_index = _knee(line, constraints)
    knee = None if knee_index is None else Pick(line[knee_index], _knee_reason(line, knee_index, constraints))
    return Recommendations(fastest, knee, line)


def quote_paired(pick: Pick | None, runs: Sequence[RunRecord], comparisons: Sequence) -> Pick | None:
    """`pick` with its paired re-measurement against its FP32 baseline appended to the reason, when one
    exists ("…; paired: run 7 is 2.71x faster (2.64–2.79, paired) than run 1")."""
    baseline = pick and baselines(runs).get(comparison_key(pick.run))
    paired = baseline and paired_words(comparisons, pick.run, baseline)
    return replace(pick, reason=f"{pick.reason}; paired: {paired}") if paired else pick


def _trade(run: RunRecord, other: RunRecord, c: Constraints, name: str | None = None) -> str:
    return trade(run, other, c.latency, c.accuracy, name or describe_run(other))


def fastest_lossless(runs: Sequence[RunRecord], like: RunRecord, c: Constraints) -> RunRecord | None:
    """The fastest done run of `like`'s model and images whose recipe keeps FP32 weights and arithmetic (an
    export, an engine, a compiler): the speed a user has without giving up any accuracy."""
    found = [r for r in runs if r.status == "done" and comparison_key(r) == comparison_key(like)
             and is_lossless_recipe(r.recipe) and r.metrics.get(c.latency) and r.metrics.get(c.accuracy) is not None]
    return min(found, key=lambda r: (r.metrics[c.latency], r.id), default=None)


def _fastest_reason(line: list[RunRecord], c: Constraints, baseline: RunRecord | None,
                    lossless: RunRecord | None) -> str:
    """Against the FP32 baseline (what a user ships instead of), against the fastest lossless configuration (the
    speed-up a user has without quantizing, each named), then against the next point of the front — each run
    named once."""
    best = line[0]
    parts, named = [], {best.id}
    if baseline is not None and baseline.id not in named:
        parts.append(_trade(best, baseline, c, f"the FP32 baseline, run {baseline.id} ({engine_words(baseline)})"))
        named.add(baseline.id)
    if lossless is not None and lossless.id not in named:
        parts.append(_trade(best, lossless, c, f"the fastest lossless configuration, {describe_run(lossless)} in "
                                               f"{engine_words(lossless)}"))
        named.add(lossless.id)
    if len(line) > 1 and line[1].id not in named:
        parts.append(f"{_trade(best, line[1], c)}, the next point of the front")
    if not parts:
        return f"{describe_run(best)} is the only configuration measured within the constraints"
    return f"{describe_run(best)} is " + "; ".join(parts) + ("" if len(line) > 1 else
                                                            "; the only configuration on the front")


def _knee(line: list[RunRecord], c: Constraints) -> int | None:
    """The front point farthest from the chord between its ends (log latency, accuracy; both scaled 0..1)."""
    if len(line) < 3:
        return None
    xs = [math.log(r.metrics[c.latency]) for r in line]
    ys = [r.metrics[c.accuracy] for r in line]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    pts = [((x - min(xs)) / span_x, (y - min(ys)) / span_y) for x, y in zip(xs, ys)]
    (x0, y0), (x1, y1) = pts[0], pts[-1]
    norm = math.hypot(x1 - x0, y1 - y0) or 1.0
    distance = [abs((y1 - y0) * x - (x1 - x0) * y + x1 * y0 - y1 * x0) / norm for x, y in pts]
    inner = range(1, len(line) - 1)
    return max(inner, key=lambda i: distance[i])


def _knee_reason(line: list[RunRecord], i: int, c: Constraints) -> str:
    knee, faster, slower = line[i], line[i - 1], line[i + 1]
    gain = -accuracy_drop(knee, faster, c.accuracy)
    slowdown = knee.metrics[c.latency] / faster.metrics[c.latency]
    better = f"{gain:.2f} points more" if drop_unit(c.accuracy) == "points" else f"{gain:.2f}% better"
    return (f"{describe_run(knee)} is {_trade(knee, slower, c)}; it gives {better} "
            f"{accuracy_words(c.accuracy)} for {slowdown:.2f}x the latency of {describe_run(faster)}")
