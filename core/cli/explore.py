"""Explorations: a budgeted search for the speed/accuracy front, and their listing."""
from __future__ import annotations

import argparse
import json
import sys

from core.cli.output import (
    EXIT_CANCELLED,
    add_measured_arguments,
    add_target_flag,
    ended,
    fmt,
    follow,
    live_words,
    measured_columns,
    open_api,
    print_table,
    run_row,
    subset_of,
)
from core.errors import RunCancelled
from core.metrics import SUMMARY_METRICS
from core.options import add_arguments, given
from core.views import run_task

TITLE = "Explorations"  # how docs/cli.md heads this group


def cmd_explore(args) -> int:
    from tqdm import tqdm

    from core.api import SETTINGS, ExploreRequest
    from core.explore import load_space

    api = open_api(args)
    bar = tqdm(total=100, desc="explore", file=sys.stderr, bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}")

    def progress(stage: str, fraction: float) -> None:
        bar.update(max(0, int(fraction * 100) - bar.n))

    def on_trial(trial) -> None:
        run = trial.run
        if run is None:
            bar.write(f"trial {trial.number}: {trial.configuration.label()} {trial.note}", file=sys.stderr)
            return
        # the run's front (latency and top-1; a language model's inter-token latency and perplexity) and its size
        metrics = "  ".join(f"{k} {fmt(run.metrics.get(k))}" for k in (*run_task(run).front, "size_mb"))
        if trial.reused:
            bar.write(f"baseline: run {run.id} reused from the store  {metrics}  ({trial.configuration.label()})",
                      file=sys.stderr)
            return
        bar.write(f"trial {trial.number}: run {run.id} {run.status}  {metrics}  ({trial.configuration.label()})"
                  + (f"  error: {run.error}" if run.error else ""), file=sys.stderr)

    try:
        if args.resume is not None:
            record = api.exploration(args.resume)
            print(f"continuing exploration {record.id} ({record.trials} trial(s) so far)", file=sys.stderr)
            record = api.continue_exploration(args.resume, progress, on_trial)
        else:
            request = ExploreRequest(model=args.model, dataset=args.dataset, subset=subset_of(args), seed=args.seed,
                                     space=load_space(args.space) if args.space else None,
                                     options=given(args, SETTINGS["explore"]), timing=given(args, SETTINGS["timing"]),
                                     target=args.target)
            plan = api.plan_exploration(request)
            _print_plan(plan)
            if args.target:  # its target's workers share the trials; this command follows them
                exploration_id = api.submit_exploration(request)
                print(f"exploration {exploration_id} queued for target {args.target} "
                      f"({live_words(api, args.target)})", file=sys.stderr)
                record = follow(lambda: api.exploration(exploration_id), progress)
            else:
                record = api.explore(request, progress, on_trial)
    except (KeyboardInterrupt, RunCancelled):
        print("exploration stopped; continue it with `python -m core explore --resume ID` "
              "(`python -m core explorations` lists them)", file=sys.stderr)
        return EXIT_CANCELLED
    finally:
        bar.close()  # before any error is printed: the bar must not be the last line
    return _print_exploration(api, record, args.json)


def _print_plan(plan) -> None:
    skipped = sum(plan.validity.skipped.values())
    print(f"space: {plan.space.size()} configurations, {len(plan.validity.runnable)} runnable"
          + (f" ({skipped} left out, e.g. {next(iter(plan.validity.skipped))})" if skipped else ""), file=sys.stderr)
    print(f"budget: about {plan.budget_runs} run(s) ({plan.estimate_basis}); strategy: {plan.strategy}",
          file=sys.stderr)
    print(("note: the budget is too small to learn much: " if plan.advice.too_small else "budget: ")
          + plan.advice.words(), file=sys.stderr)


def _print_exploration(api, record, as_json: bool) -> int:
    result = api.exploration_report(record.id)
    record, picks, constraints = result.record, result.picks, result.constraints
    runs, history, accuracy = result.runs, result.history, result.constraints.accuracy
    if as_json:
        print(json.dumps({**record.to_json(), "front": [r.id for r in picks.front],
                          "fastest": picks.fastest and {"run": picks.fastest.run.id, "reason": picks.fastest.reason},
                          "knee": picks.knee and {"run": picks.knee.run.id, "reason": picks.knee.reason},
                          "runs": [r.id for r in runs]}, indent=2))
        return ended(f"exploration {record.id}", record.status, record.error)
    print(f"exploration {record.id}: {record.status}, {record.trials} trial(s) in {record.spent_s / 60:.1f} min, "
          f"strategy {record.strategy}")
    if record.reused_run_ids:
        print(f"  reused from the store as baselines (no budget spent): run(s) "
              f"{', '.join(map(str, record.reused_run_ids))}")
    for note in record.notes:
        print(f"  note: {note}")
    if picks.front:
        print(f"\nfront ({constraints.latency} vs {accuracy}, within the constraints):")
        rows = [run_row(r) for r in picks.front]
        print_table(rows, measured_columns(rows, ["id", "recipe", "batch", *SUMMARY_METRICS]))
    else:
        print("no run meets the constraints yet")
    if history:
        print(f"\nhypervolume: {history[-1].share:.3f} of the box after {history[-1].trials} run(s)")
    if picks.fastest:
        print(f"fastest within the constraints: {picks.fastest.reason}")
    if picks.knee:
        print(f"knee of the front: {picks.knee.reason}")
    return ended(f"exploration {record.id}", record.status, record.error)


def cmd_explorations(args) -> int:
    records = open_api(args).explorations()
    if args.json:
        print(json.dumps([r.to_json() for r in records], indent=2))
    elif not records:
        print("no explorations yet: python -m core explore --model resnet8 --budget-runs 10")
    else:
        print_table([{"id": r.id, "status": r.status, "model": r.config.get("model"), "strategy": r.strategy,
                      "trials": r.trials, "minutes": r.spent_s / 60, "progress": r.progress} for r in records],
                    ["id", "status", "model", "strategy", "trials", "minutes", "progress"])
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """This group's commands and their flags."""
    from core.api import SETTINGS
    from core.models import DEFAULT_MODEL

    p = sub.add_parser("explore", help="search a model's techniques within a budget for the speed/accuracy front")
    add_measured_arguments(p, DEFAULT_MODEL)
    budget = p.add_mutually_exclusive_group(required=True)
    budgets = ("budget_minutes", "budget_runs")
    add_arguments(budget, SETTINGS["explore"], only=budgets)
    budget.add_argument("--resume", type=int, metavar="ID", help="continue a stopped exploration")
    add_arguments(p, SETTINGS["explore"], skip=budgets)
    p.add_argument("--space", metavar="FILE.yaml", help="the search space (default: the model's default space)")
    add_arguments(p, SETTINGS["timing"])
    add_target_flag(p, "exploration")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_explore)
    p = sub.add_parser("explorations", help="list explorations")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_explorations)
