"""One wording for the figures quoted beside a recommendation: a paired re-measurement — its contention, and
whether the runs' own (unpaired) timings agree with it, and which to believe when they do not — and an export's
per-image verification. Export, explorations, Compare and the CLI all quote through here."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.bench.paired import Paired
from core.metrics import CATALOGUE
from core.store import RunRecord


def verified_words(result) -> str:
    """How an exported file matched its run, per image: "all 1000 images predicted as the run did", or "997 of
    1000 … the other 3 are ties of the file's top logits …"."""
    if result.tokens:
        return f"all {result.tokens} greedy tokens of {result.images} prompts generated as the run did"
    if not result.images:
        return "held to the run's metric (the run stored no per-image predictions)"
    if not result.ties_excused:
        return f"all {result.images} images predicted as the run did"
    return (f"{result.images - result.ties_excused} of {result.images} images predicted as the run did; the other "
            f"{result.ties_excused} are ties of the file's top logits, which float rounding may order either way")


def per_call(run: RunRecord) -> int:
    """What one timed call's latency is divided by in a speed ratio: a generation's tokens (batch × new tokens: a
    language model's speed is per generated token), else 1 (a classifier's is per call)."""
    new_tokens = run.metrics.get("new_tokens")
    return (run.runtime.get("batch") or 1) * int(new_tokens) if new_tokens else 1


def speed_per(run: RunRecord) -> str:
    """What a speed ratio of `run` is per, in words, where a call is not the unit: "generated token" (else "")."""
    return "generated token" if per_call(run) > 1 else ""


def paired_rows(comparison, runs: dict[int, RunRecord] | None = None) -> list[dict[str, Any]]:
    """A done comparison as table rows: run, median of block medians (per generated token for a language model),
    speed against the reference (paired, and unpaired from the runs' own p50 where `runs` has them), verdict."""
    noise, runs = comparison.config.get("noise_pct", 2.0), runs or {}
    reference = runs.get(comparison.reference_id)
    per_token = any(per_call(run) > 1 for run in runs.values())
    rows = []
    for r in comparison.results:
        unpaired = unpaired_ratio(runs[r["run_id"]], reference) if r["run_id"] in runs and reference else None
        rows.append({"run": r["run_id"], f"p50 (ms{' per token' if per_token else ''}, paired)": round(r["p50_ms"], 4),
                     "speed vs reference": "reference" if r["verdict"] == "reference" else
                     f"{r['ratio']:.3f}x ({r['ci_low']:.3f}–{r['ci_high']:.3f})",
                     "unpaired (runs' own p50)": "reference" if r["verdict"] == "reference" else
                     "–" if unpaired is None else _ratio_text(*unpaired),
                     "verdict": Paired(**r).words(comparison.reference_id, noise)})
    return rows


def _ratio_text(ratio: float, low: float | None, high: float | None) -> str:
    return f"{ratio:.3f}x" + (f" ({low:.3f}–{high:.3f})" if low is not None and high is not None else "")


def unpaired_ratio(run: RunRecord, reference: RunRecord,
                   latency: str = "latency_p50_ms") -> tuple[float, float | None, float | None] | None:
    """The reference's p50 over the run's (each `per_call`), from their separate timings, with the interval their
    p50 intervals allow (None where a run has none); None when either lacks a p50."""
    mine, theirs = run.metrics.get(latency), reference.metrics.get(latency)
    if not mine or not theirs:
        return None
    scale = per_call(run) / per_call(reference)  # tokens per generation may differ between two runs
    names = CATALOGUE[latency].interval if latency in CATALOGUE else None
    bounds = [m.get(k) for m in (run.metrics, reference.metrics) for k in names] if names else [None]
    if any(b is None or b <= 0 for b in bounds):
        return scale * theirs / mine, None, None
    run_low, run_high, ref_low, ref_high = bounds
    return scale * theirs / mine, scale * ref_low / run_high, scale * ref_high / run_low


def contention_words(comparison) -> str:
    """What else the machine did while a comparison timed, e.g. "noisy: other processes used 85% of a core" or
    "quiet: other processes used 3% of a core"."""
    contention = comparison.contention or {}
    other, steal = contention.get("other_cpu_pct"), contention.get("steal_pct")
    if other is None:
        return "noisy" if comparison.noisy else "contention not recorded"
    steal_words = f", steal {steal:.0f}%" if (steal or 0) >= 0.5 else ""
    figures = f"other processes used {other:.0f}% of a core{steal_words}"
    return f"{'noisy' if comparison.noisy else 'quiet'}: {figures}"


def paired_quote(comparison, run: RunRecord, reference: RunRecord) -> str | None:
    """How every page quotes a paired figure: the figure, how busy the machine was, and — when the runs' own
    (unpaired) timings disagree beyond both intervals — that they disagree and which to believe, and why."""
    result = comparison.result(run.id)
    if result is None:
        return None
    paired = Paired(**result)
    words = paired.words(reference.id, comparison.config.get("noise_pct", 2.0), speed_per(reference))
    text = f"{words} ({contention_words(comparison)})"
    unpaired = unpaired_ratio(run, reference)
    if unpaired is None or unpaired[1] is None or paired.verdict == "reference":
        return text
    ratio, low, high = unpaired
    if low <= paired.ci_high and paired.ci_low <= high:
        return text
    if not comparison.noisy:
        advice = ("believe the paired figure: both were timed side by side in one process on a quiet machine, so "
                  "what drifted between the runs' separate timings cancels")
    elif not run.noisy and not reference.noisy:
        advice = ("believe the unpaired figure for now: each run was timed on a quiet machine, while the "
                  "re-measurement shared it with other processes, which slow engines unequally; re-measure on a "
                  "quiet machine")
    else:
        advice = "believe neither: both were timed on a busy machine; measure again on a quiet one"
    return (f"{text}; it disagrees with the unpaired {_ratio_text(ratio, low, high)} of the runs' own timings — "
            f"{advice}")


def paired_words(comparisons: Sequence[Any], run: RunRecord, reference: RunRecord) -> str | None:
    """The newest done paired figure of `run` against `reference` as `paired_quote` says it, preferring one timed on
    a quiet machine; None when no comparison has both."""
    newest_quiet_first = sorted(reversed(comparisons), key=lambda c: c.noisy)  # stable: newest first within each
    for comparison in newest_quiet_first:
        if comparison.status == "done" and comparison.reference_id == reference.id:
            quote = paired_quote(comparison, run, reference)
            if quote is not None:
                return quote
    return None
