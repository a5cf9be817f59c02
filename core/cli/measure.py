"""Measurements of done runs: a latency-throughput curve, a paired re-measurement side by side."""
from __future__ import annotations

import argparse
import json
import sys

from core import quoting, views
from core.cli.output import (
    EXIT_CANCELLED,
    add_run_command,
    ended,
    open_api,
    print_table,
)
from core.errors import RunCancelled
from core.options import add_arguments, given

TITLE = "Measuring done runs again"  # how docs/cli.md heads this group


def cmd_curve(args) -> int:
    from core.api import SETTINGS
    from core.progress import TqdmProgress

    with TqdmProgress() as bar:
        curve = open_api(args).measure_curve(args.run_id, given(args, SETTINGS["curve"]), bar)
    if args.json:
        print(json.dumps(curve.to_json(), indent=2))
        return ended(f"curve {curve.id}", curve.status, curve.error)
    print(f"curve {curve.id} of run {curve.run_id}: {curve.status}")
    if curve.points:
        print_table([p.__dict__ for p in curve.points], ["target_rate_rps", "achieved_rate_rps", "latency_p50_ms",
                                                         "latency_p99_ms", "over_bound_pct", "completed", "dropped"])
        bound = curve.config["latency_bound_ms"]
        summary = views.curve_summary(curve.points, bound)
        print(f"saturation: {summary.saturation.achieved_rate_rps:.1f} requests/s (at a target of "
              f"{summary.saturation.target_rate_rps:.1f}/s)")
        if summary.best_under_bound:
            print(f"highest rate with p99 under {bound:g} ms: {summary.best_under_bound.achieved_rate_rps:.1f} "
                  "requests/s")
        else:
            print(f"no measured rate kept p99 under {bound:g} ms")
    return ended(f"curve {curve.id}", curve.status, curve.error)


def cmd_remeasure(args) -> int:
    from core.api import SETTINGS
    from core.progress import TqdmProgress

    api = open_api(args)
    try:
        with TqdmProgress() as bar:
            record = api.remeasure(args.run_ids, args.reference, given(args, SETTINGS["remeasure"]), bar)
    except (KeyboardInterrupt, RunCancelled):
        print("re-measurement stopped", file=sys.stderr)
        return EXIT_CANCELLED
    if args.json:
        print(json.dumps(record.to_json(), indent=2))
        return ended(f"comparison {record.id}", record.status, record.error)
    print(f"comparison {record.id}: {record.status}")
    if record.status == "done":
        config, reference = record.config, api.run(record.reference_id)
        per_token = " per generated token" if quoting.per_call(reference) > 1 else ""
        print(f"{config['rounds']} interleaved rounds of {config['block_ms']:g} ms per run; reference run "
              f"{record.reference_id}; ratio = reference latency / run latency{per_token} (> 1 is faster)")
        print_table([{**r, "ci": f"{r['ci_low']:.3f}–{r['ci_high']:.3f}"} for r in record.results],
                    ["run_id", "p50_ms", "ratio", "ci", "verdict"])
        for result in record.results:
            if result["verdict"] != "reference":
                print(quoting.paired_quote(record, api.run(result["run_id"]), reference))
        if record.note:
            print(f"note: {record.note}")
    return ended(f"comparison {record.id}", record.status, record.error)


def add_commands(sub: argparse._SubParsersAction) -> None:
    """This group's commands and their flags."""
    from core.api import SETTINGS

    add_run_command(sub, "curve", "sweep a done run's configuration in the server scenario up to saturation",
                    cmd_curve, SETTINGS["curve"], aliases={"latency_bound_ms": "--bound-ms"})
    p = sub.add_parser("remeasure", help="time several done runs side by side in one process (paired rounds)")
    p.add_argument("run_ids", type=int, nargs="+", metavar="RUN_ID")
    p.add_argument("--reference", type=int, metavar="RUN_ID",
                   help="the run the others are compared with (default: the oldest FP32 baseline among them, "
                        "else the first)")
    add_arguments(p, SETTINGS["remeasure"])
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_remeasure)
