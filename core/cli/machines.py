"""Workers, targets and the queue: run the worker, list targets, cancel or requeue any kind of job."""
from __future__ import annotations

import argparse
import json
import sys

from core.cli.output import open_api, print_table
from core.options import add_arguments, given, parse_options
from core.store import JOB_KINDS

TITLE = "Workers, targets and the queue"  # how docs/cli.md heads this group


def cmd_worker(args) -> int:
    from core import jobs
    from core.progress import TqdmProgress
    from core.targets import WorkerSettings

    api = open_api(args)
    worker = parse_options(WorkerSettings, given(args, WorkerSettings), what="worker")
    if args.target:
        print(f"worker of target {args.target}: taking its work"
              + (" and unaddressed work" if args.accept_unaddressed else "") + "; Ctrl-C stops it", file=sys.stderr)
    with TqdmProgress() as bar:
        count = jobs.run_worker(api.settings, api.store, progress=bar, target=args.target,
                                accept_unaddressed=args.accept_unaddressed, wait=False if args.once else None,
                                worker=worker)
    print(f"worker finished {count} job(s)")
    return 0


def cmd_targets(args) -> int:
    targets = open_api(args).targets()
    if args.json:
        print(json.dumps([t.to_json() for t in targets], indent=2))
        return 0
    if not targets:
        print("no target registered; start `python -m core worker --target NAME` on a machine to add one")
        return 0
    print_table([{"target": t.name, "live workers": t.live_workers, "queued": t.queued, "running": t.running,
                  "hardware": t.hardware(), "last seen (UTC)": f"{t.last_seen_at:%Y-%m-%d %H:%M:%S}"}
                 for t in targets], ["target", "live workers", "queued", "running", "hardware", "last seen (UTC)"])
    return 0


def cmd_cancel(args) -> int:
    status = open_api(args).cancel(args.job_id, args.kind)
    print(f"{args.kind} {args.job_id}: {'cancel requested' if status == 'running' else status}")
    return 0


def cmd_requeue(args) -> int:
    open_api(args).requeue(args.job_id, args.kind)
    print(f"{args.kind} {args.job_id}: queued again")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """This group's commands and their flags."""
    from core.targets import WorkerSettings

    p = sub.add_parser("worker", help="execute queued jobs one at a time until the queue is empty; with --target, "
                                      "serve that target's queue until stopped")
    p.add_argument("--target", metavar="NAME", help="register this machine as target NAME and take its work")
    p.add_argument("--accept-unaddressed", action="store_true", help="with --target: also take work addressed to "
                                                                       "no target")
    p.add_argument("--once", action="store_true", help="with --target: end when the queue is empty")
    add_arguments(p, WorkerSettings)
    p.set_defaults(func=cmd_worker)
    p = sub.add_parser("targets", help="list registered targets: hardware, live workers, queue")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_targets)
    p = sub.add_parser("cancel", help="cancel a queued or running job (a run unless --kind says otherwise)")
    p.add_argument("job_id", type=int, metavar="ID")
    p.add_argument("--kind", choices=list(JOB_KINDS), default="run", help="the kind of job (default %(default)s)")
    p.set_defaults(func=cmd_cancel)
    p = sub.add_parser("requeue", help="queue a cancelled, interrupted or failed job again (an exploration "
                                       "continues where it stopped)")
    p.add_argument("job_id", type=int, metavar="ID")
    p.add_argument("--kind", choices=list(JOB_KINDS), default="run", help="the kind of job (default %(default)s)")
    p.set_defaults(func=cmd_requeue)
