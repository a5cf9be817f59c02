"""Runs and the catalogue: list what there is, measure one configuration, read, compare and export runs, build a
model ahead."""
from __future__ import annotations

import argparse
import json
import sys

from core import quoting, views
from core.cli.output import (
    EXIT_CANCELLED,
    add_measured_arguments,
    add_run_command,
    add_target_flag,
    ended,
    fmt,
    follow,
    live_words,
    measured_columns,
    open_api,
    print_run,
    print_table,
    run_row,
    subset_of,
)
from core.errors import RunCancelled
from core.metrics import OBJECTIVES
from core.options import add_arguments, given
from core.tasks import DEFAULT_TASK, TASKS

TITLE = "Runs and the catalogue"  # how docs/cli.md heads this group


def cmd_catalogue(args) -> int:
    from core.api import InferScope

    if args.command == "models":
        rows = open_api(args).models()
        columns = ["name", "source", "params", "gflops", "input", "weights_offline", "reference_top1"]
    elif args.command == "datasets":
        rows, columns = InferScope.datasets(), ["name", "task", "label_space", "needs_location", "description"]
    elif args.command == "scenarios":
        rows, columns = InferScope.scenarios(), ["name", "summary", "use_when"]
    else:
        rows, columns = InferScope.techniques(), ["name", "accepts", "produces", "summary"]
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    print_table(rows, columns)
    if args.command == "models":
        print("\nAn ONNX image classifier is used by its path: --model path/to/model.onnx[:mean=.../std=...]")
    if args.command in ("techniques", "scenarios"):
        for t in rows:
            for o in t["options"]:
                choices = f" [{', '.join(map(str, o['choices']))}]" if o["choices"] else ""
                print(f"  {t['name']}:{o['name']}={fmt(o['default'])}{choices}  {o['help']}")
    return 0


def cmd_run(args) -> int:
    from core.api import SETTINGS, RunRequest
    from core.progress import TqdmProgress

    request = RunRequest(model=args.model, dataset=args.dataset, subset=subset_of(args), seed=args.seed,
                         techniques=tuple(args.technique or ()), random_weights=args.random_weights,
                         timing=given(args, SETTINGS["timing"]), scenario=args.scenario,
                         target=args.target, **given(args, SETTINGS["runtime"]))
    api = open_api(args)
    for caution in api.plan(request).recipe.cautions():
        print(f"caution: {caution}", file=sys.stderr)
    run_id = api.submit(request)
    print(f"run {run_id} queued: {args.model} on {args.dataset}"
          + (f" for target {args.target} ({live_words(api, args.target)})" if args.target else ""), file=sys.stderr)
    try:
        with TqdmProgress() as bar:
            run = follow(lambda: api.run(run_id), bar) if args.target else api.execute(run_id, bar)
    except (KeyboardInterrupt, RunCancelled):  # Ctrl-C here, or Cancel pressed in the dashboard
        print(f"run {run_id} left in the queue of target {args.target}; `python -m core cancel {run_id}` cancels it"
              if args.target and api.run(run_id).status in ("queued", "running") else f"run {run_id} cancelled",
              file=sys.stderr)
        print(run_id)
        return EXIT_CANCELLED
    print_run(run, api.samples(run_id) if args.verbose else None)
    print(run_id)
    return ended(f"run {run_id}", run.status, run.error)


def cmd_runs(args) -> int:
    from core.api import InferScope

    runs = open_api(args).runs()
    if args.json:
        print(json.dumps([r.to_json() for r in runs], indent=2))
    elif args.csv:
        sys.stdout.write(InferScope.runs_csv(runs))
    elif not runs:
        print("no runs yet: python -m core run --model resnet8 --dataset fashion-mnist")
    else:
        rows = [run_row(r) for r in runs]
        print_table(rows, measured_columns(rows, list(rows[0])))
    return 0


def cmd_show(args) -> int:
    api = open_api(args)
    run = api.run(args.run_id)
    if args.json:
        print(json.dumps({**run.to_json(), "environment": run.environment, "samples_ms": api.samples(run.id)},
                         indent=2))
    else:
        print_run(run)
        if run.environment:
            print(f"  environment: {json.dumps(run.environment)}")
    return 0


def cmd_front(args) -> int:
    api = open_api(args)
    task = TASKS.get(args.task)
    x, y = args.x or task.front[0], args.y or task.front[1]
    front = api.front(x, y, [r for r in api.runs("done") if views.run_task(r) is task])
    if args.json:
        print(json.dumps([r.to_json() for r in front], indent=2))
        return 0
    if not front:
        print(f"no done {task.words} runs have both {x} and {y}")
        return 0
    fingerprints = {r.env_fingerprint for r in front}
    rows = [{**run_row(r), x: r.metrics.get(x), y: r.metrics.get(y)} for r in front]
    print_table(rows, ["id", "model", "recipe", "batch", x, y, "size_mb"])
    if len(fingerprints) > 1:
        print(f"warning: these runs come from {len(fingerprints)} different environments and are not comparable")
    return 0


def cmd_export(args) -> int:
    from core.progress import TqdmProgress

    with TqdmProgress() as bar:
        result = open_api(args).export(args.run_id, args.output, bar)
    print(f"wrote {result.path} ({result.size_bytes / 1e6:.2f} MB); verified with {result.verified_with}: "
          f"{result.metric} {result.measured:.2f}% vs stored {result.stored:.2f}% ({result.difference:+.2f} points); "
          f"{quoting.verified_words(result)}")
    for note in result.notes:
        print(f"note: {note}")
    return 0


def cmd_prepare(args) -> int:
    from core.progress import TqdmProgress
    from core.tasks import TASKS

    api = open_api(args)
    for model in args.model or [task.default_model for _, task in TASKS]:
        with TqdmProgress() as bar:
            said = api.prepare_model(model, bar)
        print(said)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """This group's commands and their flags."""
    from core.api import SETTINGS
    from core.models import DEFAULT_MODEL
    from core.tasks import TASKS

    for name in ("models", "datasets", "techniques", "scenarios"):
        p = sub.add_parser(name, help=f"list {name}")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=cmd_catalogue)
    p = sub.add_parser("run", help="measure one configuration and store the run")
    add_measured_arguments(p, DEFAULT_MODEL)
    p.add_argument("--technique", action="append", metavar="NAME[:key=value,...]", help="repeat for each step")
    add_arguments(p, SETTINGS["runtime"])
    p.add_argument("--random-weights", action="store_true", help="no pretrained weights: latency only")
    add_arguments(p, SETTINGS["timing"])
    p.add_argument("--scenario", default="single-stream", metavar="NAME[:key=value,...]",
                   help="how load is applied while timing: single-stream, offline, server (e.g. server:rate=200), "
                        "concurrent (e.g. concurrent:clients=8,sessions=2); `python -m core scenarios` lists options")
    p.add_argument("-v", "--verbose", action="store_true", help="also print raw latency samples")
    add_target_flag(p, "run")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("runs", help="list stored runs")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--json", action="store_true")
    group.add_argument("--csv", action="store_true")
    p.set_defaults(func=cmd_runs)
    add_run_command(sub, "show", "one run in full", cmd_show)
    p = sub.add_parser("front", help="the Pareto front of one task's done runs")
    p.add_argument("--task", default=DEFAULT_TASK, choices=TASKS.names(), help="whose runs")
    p.add_argument("--x", choices=list(OBJECTIVES), help="the front's first axis (default: the task's speed axis: "
                                                         "latency p50; inter-token p50 for text generation)")
    p.add_argument("--y", choices=list(OBJECTIVES), help="the front's second axis (default: the task's quality axis: "
                                                         "top-1; perplexity for text generation)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_front)
    p = sub.add_parser("export", help="write a run's configuration as a verified ONNX file")
    p.add_argument("run_id", type=int)
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("prepare", help="build a model now (train and cache a local one, fine-tune a text one): its "
                                       "first run starts at once")
    p.add_argument("--model", action="append", help="model name[:key=value,...]; repeat for several (default: every "
                                                   "task's offline default, "
                                                   f"{', '.join(t.default_model for _, t in TASKS)})")
    p.set_defaults(func=cmd_prepare)
