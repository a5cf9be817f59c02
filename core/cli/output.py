"""What every command shares: the api it opens, how it prints tables and runs, how a job's end becomes an exit
status, and the flags that say what is measured and where."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from core import views
from core.errors import (
    InferScopeError,
    MeasurementError,
    NotFoundError,
    RunCancelled,
    StoreError,
    VerificationError,
)
from core.metrics import CATALOGUE, SUMMARY_METRICS
from core.options import add_arguments
from core.store import ACTIVE_STATUSES, ALL_METRICS, RunRecord

EXIT_FAILED, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_STORE, EXIT_CANCELLED = 1, 2, 3, 4, 130
# Exit status by error kind (the most specific class wins); any other InferScopeError is a usage error.
EXIT_CODES: dict[type[InferScopeError], int] = {
    VerificationError: EXIT_FAILED, MeasurementError: EXIT_FAILED, NotFoundError: EXIT_NOT_FOUND,
    StoreError: EXIT_STORE, RunCancelled: EXIT_CANCELLED}


def exit_code(exc: InferScopeError) -> int:
    """The exit status for an error: 1 work failed, 2 bad input, 3 no such id, 4 store unavailable, 130 cancelled."""
    return next((EXIT_CODES[kind] for kind in type(exc).__mro__ if kind in EXIT_CODES), EXIT_USAGE)


def open_api(args):
    """The api, opened as what this process is (`args.role`), so a job it runs names it should it die mid-job."""
    from core.api import InferScope

    return InferScope(role=args.role)


def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    cells = [[fmt(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)))


def measured_columns(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> list[str]:
    """`columns` less the summary metrics no row has (a classifier's top-1 is not a language model's figure, nor
    its tokens/s a classifier's)."""
    return [c for c in columns if c not in SUMMARY_METRICS or any(row.get(c) is not None for row in rows)]


def run_row(run: RunRecord) -> dict[str, Any]:
    return {"id": run.id, "status": run.status, "model": run.model, "dataset": run.dataset,
            "subset": run.subset_size, "recipe": run.recipe_summary, "batch": run.runtime.get("batch"),
            "scenario": run.scenario, "noisy": "noisy" if run.noisy else "",
            **{k: run.metrics.get(k) for k in SUMMARY_METRICS}}


def ended(job: str, status: str, error: str | None) -> int:
    """A job's exit code; a job that did not finish says why on the last line of stderr, where docs/cli.md
    promises the error (after the progress bars and the summary on stdout)."""
    if status == "done":
        return 0
    print(f"error: {job} {status}" + (f": {error}" if error else ""), file=sys.stderr)
    return EXIT_FAILED


WAIT_POLL_S = 1.0


def live_words(api, target: str) -> str:
    record = next(t for t in api.targets() if t.name == target)
    return (f"{record.live_workers} live worker(s), {record.queued} job(s) waiting" if record.live else
            f"no live worker now: start `python -m core worker --target {target}` there")


def follow(read: Callable[[], Any], progress) -> Any:
    """Follow a job another machine's worker executes through its stored stage and progress; its end state."""
    import time

    while (job := read()).status in ACTIVE_STATUSES:
        progress(job.stage or ("running" if job.status == "running" else "waiting for a worker"),
                 job.progress)
        time.sleep(WAIT_POLL_S)
    return job


def print_run(run: RunRecord, samples: list[float] | None = None) -> None:
    from core.scenarios import scenario_config, scenario_spec
    from core.views import metric_text

    print(f"run {run.id}: {run.status}  {run.model} on {run.dataset} (subset {run.subset_size}, seed "
          f"{run.subset_seed})  target: {views.target_of(run)}  recipe: {run.recipe_summary}  "
          f"runtime: {json.dumps(run.runtime)}  scenario: "
          f"{scenario_spec(run.scenario, scenario_config(run.scenario, run.scenario_config))}")
    if run.error:
        print(f"error: {run.error}")
    if run.status == "done":
        shown_as_interval = {k for name in ALL_METRICS if CATALOGUE[name].interval for k in CATALOGUE[name].interval}
        for name in ALL_METRICS:
            if name not in shown_as_interval:
                print(f"  {name:22} {metric_text(run, name)}")
        print(f"  engine {run.engine}, fingerprint {run.env_fingerprint}")
    for note in run.notes:
        print(f"  note: {note}")
    for finding in run.advice:
        print(f"  doctor: {finding['figure']}: {finding['advice']}")
    row = views.roofline_row(run) if run.status == "done" else None
    if row is not None and row["note"]:
        print(f"  roofline: {row['achieved GOP/s']:.3g} GOP/s, {row['note']}")
    elif row is not None:
        share = "" if row["share of peak %"] is None else f", {row['share of peak %']:.2g}% of"
        print(f"  roofline: {row['achieved GOP/s']:.3g} GOP/s{share} this machine's {row['precision']} peak "
              f"({row['peak GOP/s'] or 0:.0f} GOP/s)")
    if samples:
        print(f"  {len(samples)} samples (ms): {', '.join(f'{s:.3f}' for s in samples[:20])} ...")


def add_measured_arguments(p: argparse.ArgumentParser, default_model: str) -> None:
    """What is measured: the model, the data and the seeded subset (run and explore)."""
    p.add_argument("--model", default=default_model, help="model name[:key=value,...] or path/to/model.onnx")
    p.add_argument("--dataset", default="fashion-mnist", help="dataset name, or NAME:PATH")
    p.add_argument("--subset", type=int, help="evaluation inputs, images or texts (seeded, stratified; default: the "
                                               "dataset's task's: 1000 images, 400 texts, 100 held-out texts for text "
                                               "generation)")
    p.add_argument("--seed", type=int, default=0)


def subset_of(args: argparse.Namespace) -> int:
    """The subset asked for, else the default of the dataset's task (what fits its offline default dataset)."""
    from core.datasets import DATASETS
    from core.options import split_spec
    from core.tasks import DEFAULT_TASK, TASKS

    if args.subset is not None:
        return args.subset
    name = split_spec(args.dataset)[0]
    return TASKS.get(DATASETS.get(name).task if name in DATASETS else DEFAULT_TASK).default_subset


def add_target_flag(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--target", metavar="NAME", help=f"queue the {what} for a registered target's workers and follow "
                                                    "it (`python -m core targets` lists them)")


def add_run_command(sub: argparse._SubParsersAction, name: str, summary: str, func: Callable[[Any], int],
                    settings: type | None = None, aliases: dict[str, str] | None = None) -> None:
    """A command about one stored run: `NAME RUN_ID`, the flags of its `settings` form, `--json`."""
    p = sub.add_parser(name, help=summary)
    p.add_argument("run_id", type=int)
    if settings is not None:
        add_arguments(p, settings, aliases=aliases)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=func)
