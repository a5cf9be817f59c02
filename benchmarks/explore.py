"""A budgeted exploration of the default Fashion-MNIST model, as a user would launch it.

Target: within a 10-minute budget on this machine, the exploration finds a configuration within
1 point of FP32 top-1 that is at least 3x faster than eager FP32 (the fastest eager FP32 baseline
of the exploration, so thread settings cannot flatter the ratio).

It runs in a fresh store (a temporary data directory unless --home is given) with the default
space and timing, through the same api the CLI and the worker use, and prints the front, the
recommendations, the hypervolume after each trial and the figures of docs/results.md.

    .venv/bin/python benchmarks/explore.py [--minutes 10] [--subset 1000] [--strategy auto] [--home DIR]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import warnings
from pathlib import Path

from core import comparable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--subset", type=int, default=1000)
    parser.add_argument("--strategy", default="auto", choices=("auto", "exhaustive", "nsga2", "tpe"))
    parser.add_argument("--home", help="data directory for the store (default: a temporary one)")
    args = parser.parse_args()

    # The shared model cache keeps the trained default model; the runs go to a fresh database.
    database = Path(args.home or tempfile.mkdtemp(prefix="inferscope-explore-")) / "explore.db"
    os.environ["INFERSCOPE_DB"] = f"sqlite:///{database}"
    from core.api import ExploreRequest, InferScope
    from core.cli.output import print_table, run_row
    from core.metrics import SUMMARY_METRICS
    from core.models import DEFAULT_MODEL

    api = InferScope()
    request = ExploreRequest(model=DEFAULT_MODEL, subset=args.subset,
                             options={"budget_minutes": args.minutes, "max_drop": 1.0, "strategy": args.strategy})
    plan = api.plan_exploration(request)
    print(f"store: {database}")
    print(f"space: {plan.space.size()} configurations, {len(plan.validity.runnable)} runnable; strategy "
          f"{plan.strategy}; budget {args.minutes:g} min ({plan.estimate_basis})")

    def on_trial(trial) -> None:
        run = trial.run
        if run is None:
            print(f"  trial {trial.number}: {trial.note}")
            return
        p50, top1 = run.metrics.get("latency_p50_ms"), run.metrics.get("top1")
        print(f"  trial {trial.number:>3}: {run.status:<6} p50 {p50 or 0:8.4f} ms  top-1 {top1 or 0:6.2f}  "
              f"{trial.configuration.label()}", flush=True)

    record = api.explore(request, on_trial=on_trial)
    result = api.exploration_report(record.id)
    runs = result.runs
    print(f"\nexploration {record.id}: {record.status}, {record.trials} trials in {record.spent_s / 60:.1f} min "
          f"({'; '.join(record.notes)})")
    print("\nfront (p50 latency vs top-1, within 1 point of FP32):")
    print_table([run_row(r) for r in result.picks.front], ["id", "recipe", "batch", *SUMMARY_METRICS])
    for name, pick in (("fastest", result.picks.fastest), ("knee", result.picks.knee)):
        if pick:
            print(f"{name}: run {pick.run.id} — {pick.reason}")
    print("\nhypervolume after each trial: " + " ".join(f"{p.share:.2f}" for p in result.history))

    eager = [r for r in runs if r.status == "done" and comparable.is_baseline(r)]
    if not eager or not result.picks.fastest:
        print("FAIL: no baseline or no configuration within the constraints")
        return 1
    base = min(eager, key=lambda r: r.metrics["latency_p50_ms"])
    best = result.picks.fastest.run
    speedup = base.metrics["latency_p50_ms"] / best.metrics["latency_p50_ms"]
    drop = max(r.metrics["top1"] for r in eager) - best.metrics["top1"]
    threads = base.runtime.get("threads") or "all"
    print(f"\ndocs/results.md: {args.minutes:g}-minute exploration of {DEFAULT_MODEL} ({record.trials} trials, "
          f"{plan.strategy}): best within 1 point of FP32 is run {best.id} ({best.recipe_summary}), {speedup:.1f}x "
          f"faster than the "
          f"fastest eager FP32 baseline ({threads} threads, p50 {base.metrics['latency_p50_ms']:.3f} ms) for "
          f"{abs(drop):.2f} points {'less' if drop >= 0 else 'more'} top-1 (target: >= 3x)")
    return 0 if speedup >= 3.0 and drop <= 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
