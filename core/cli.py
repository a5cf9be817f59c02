"""`python -m core ...`: everything the UI can do, headless."""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from core import quoting, views
from core.errors import (
    ConfigError,
    InferScopeError,
    MeasurementError,
    NotFoundError,
    RunCancelled,
    StoreError,
    VerificationError,
)
from core.metrics import (
    CATALOGUE,
    DEFAULT_ACCURACY,
    DEFAULT_LATENCY,
    OBJECTIVES,
    SUMMARY_METRICS,
)
from core.options import add_arguments, given, parse_options
from core.store import ACTIVE_STATUSES, ALL_METRICS, RunRecord, set_process_role

EXIT_FAILED, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_STORE, EXIT_CANCELLED = 1, 2, 3, 4, 130
# Exit status by error kind (the most specific class wins); any other InferScopeError is a usage error.
EXIT_CODES: dict[type[InferScopeError], int] = {
    VerificationError: EXIT_FAILED, MeasurementError: EXIT_FAILED, NotFoundError: EXIT_NOT_FOUND,
    StoreError: EXIT_STORE, RunCancelled: EXIT_CANCELLED}


def exit_code(exc: InferScopeError) -> int:
    """The exit status for an error: 1 work failed, 2 bad input, 3 no such id, 4 store unavailable, 130 cancelled."""
    return next((EXIT_CODES[kind] for kind in type(exc).__mro__ if kind in EXIT_CODES), EXIT_USAGE)


def _api():
    from core.api import InferScope

    return InferScope()


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    cells = [[_fmt(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)))


def _run_row(run: RunRecord) -> dict[str, Any]:
    return {"id": run.id, "status": run.status, "model": run.model, "dataset": run.dataset,
            "subset": run.subset_size, "recipe": run.recipe_summary, "batch": run.runtime.get("batch"),
            "scenario": run.scenario, "noisy": "noisy" if run.noisy else "",
            **{k: run.metrics.get(k) for k in SUMMARY_METRICS}}


def cmd_catalogue(args) -> int:
    from core.api import InferScope

    if args.command == "models":
        rows = _api().models()
        columns = ["name", "source", "params", "gflops", "input", "weights_offline", "reference_top1"]
    elif args.command == "datasets":
        rows, columns = InferScope.datasets(), ["name", "label_space", "needs_location", "description"]
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
                print(f"  {t['name']}:{o['name']}={_fmt(o['default'])}{choices}  {o['help']}")
    return 0


def cmd_run(args) -> int:
    from core.api import SETTINGS, RunRequest
    from core.progress import TqdmProgress

    request = RunRequest(model=args.model, dataset=args.dataset, subset=args.subset, seed=args.seed,
                         techniques=tuple(args.technique or ()), random_weights=args.random_weights,
                         timing=given(args, SETTINGS["timing"]), scenario=args.scenario,
                         target=args.target, **given(args, SETTINGS["runtime"]))
    api = _api()
    run_id = api.submit(request)
    print(f"run {run_id} queued: {args.model} on {args.dataset}"
          + (f" for target {args.target} ({_live_words(api, args.target)})" if args.target else ""), file=sys.stderr)
    try:
        with TqdmProgress() as bar:
            run = _follow(lambda: api.run(run_id), bar) if args.target else api.execute(run_id, bar)
    except (KeyboardInterrupt, RunCancelled):  # Ctrl-C here, or Cancel pressed in the dashboard
        print(f"run {run_id} left in the queue of target {args.target}; `python -m core cancel {run_id}` cancels it"
              if args.target and api.run(run_id).status in ("queued", "running") else f"run {run_id} cancelled",
              file=sys.stderr)
        print(run_id)
        return EXIT_CANCELLED
    _print_run(run, api.samples(run_id) if args.verbose else None)
    print(run_id)
    return _ended(f"run {run_id}", run.status, run.error)


def _ended(job: str, status: str, error: str | None) -> int:
    """A job's exit code; a job that did not finish says why on the last line of stderr, where the README
    promises the error (after the progress bars and the summary on stdout)."""
    if status == "done":
        return 0
    print(f"error: {job} {status}" + (f": {error}" if error else ""), file=sys.stderr)
    return EXIT_FAILED


WAIT_POLL_S = 1.0


def _live_words(api, target: str) -> str:
    record = next(t for t in api.targets() if t.name == target)
    return (f"{record.live_workers} live worker(s), {record.queued} job(s) waiting" if record.live else
            f"no live worker now: start `python -m core worker --target {target}` there")


def _follow(read: Callable[[], Any], progress) -> Any:
    """Follow a job another machine's worker executes through its stored stage and progress; its end state."""
    import time

    while (job := read()).status in ACTIVE_STATUSES:
        progress(getattr(job, "stage", None) or ("running" if job.status == "running" else "waiting for a worker"),
                 job.progress)
        time.sleep(WAIT_POLL_S)
    return job


def _print_run(run: RunRecord, samples: list[float] | None = None) -> None:
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


def cmd_runs(args) -> int:
    from core.api import InferScope

    runs = _api().runs()
    if args.json:
        print(json.dumps([r.to_json() for r in runs], indent=2))
    elif args.csv:
        sys.stdout.write(InferScope.runs_csv(runs))
    elif not runs:
        print("no runs yet: python -m core run --model resnet8 --dataset fashion-mnist")
    else:
        print_table([_run_row(r) for r in runs], list(_run_row(runs[0])))
    return 0


def cmd_show(args) -> int:
    api = _api()
    run = api.run(args.run_id)
    if args.json:
        print(json.dumps({**run.to_json(), "environment": run.environment, "samples_ms": api.samples(run.id)},
                         indent=2))
    else:
        _print_run(run)
        if run.environment:
            print(f"  environment: {json.dumps(run.environment)}")
    return 0


def cmd_front(args) -> int:
    api = _api()
    front = api.front(args.x, args.y)
    if args.json:
        print(json.dumps([r.to_json() for r in front], indent=2))
        return 0
    if not front:
        print(f"no done runs have both {args.x} and {args.y}")
        return 0
    fingerprints = {r.env_fingerprint for r in front}
    rows = [{**_run_row(r), args.x: r.metrics.get(args.x), args.y: r.metrics.get(args.y)} for r in front]
    print_table(rows, ["id", "model", "recipe", "batch", args.x, args.y, "agreement", "size_mb"])
    if len(fingerprints) > 1:
        print(f"warning: these runs come from {len(fingerprints)} different environments and are not comparable")
    return 0


def cmd_export(args) -> int:
    from core.progress import TqdmProgress

    with TqdmProgress() as bar:
        result = _api().export(args.run_id, args.output, bar)
    print(f"wrote {result.path} ({result.size_bytes / 1e6:.2f} MB); verified with {result.verified_with}: "
          f"{result.metric} {result.measured:.2f}% vs stored {result.stored:.2f}% ({result.difference:+.2f} points); "
          f"{quoting.verified_words(result)}")
    for note in result.notes:
        print(f"note: {note}")
    return 0


def cmd_curve(args) -> int:
    from core import views
    from core.api import SETTINGS
    from core.progress import TqdmProgress

    with TqdmProgress() as bar:
        curve = _api().measure_curve(args.run_id, given(args, SETTINGS["curve"]), bar)
    if args.json:
        print(json.dumps(curve.to_json(), indent=2))
        return _ended(f"curve {curve.id}", curve.status, curve.error)
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
    return _ended(f"curve {curve.id}", curve.status, curve.error)


def cmd_explore(args) -> int:
    from tqdm import tqdm

    from core.api import SETTINGS, ExploreRequest
    from core.explore import load_space

    api = _api()
    bar = tqdm(total=100, desc="explore", file=sys.stderr, bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}")

    def progress(stage: str, fraction: float) -> None:
        bar.update(max(0, int(fraction * 100) - bar.n))

    def on_trial(trial) -> None:
        run = trial.run
        if run is None:
            bar.write(f"trial {trial.number}: {trial.configuration.label()} {trial.note}", file=sys.stderr)
            return
        metrics = "  ".join(f"{k} {_fmt(run.metrics.get(k))}" for k in ("latency_p50_ms", "top1", "size_mb"))
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
            request = ExploreRequest(model=args.model, dataset=args.dataset, subset=args.subset, seed=args.seed,
                                     space=load_space(args.space) if args.space else None,
                                     options=given(args, SETTINGS["explore"]), timing=given(args, SETTINGS["timing"]),
                                     target=args.target)
            plan = api.plan_exploration(request)
            _print_plan(plan)
            if args.target:  # its target's workers share the trials; this command follows them
                exploration_id = api.submit_exploration(request)
                print(f"exploration {exploration_id} queued for target {args.target} "
                      f"({_live_words(api, args.target)})", file=sys.stderr)
                record = _follow(lambda: api.exploration(exploration_id), progress)
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
        return _ended(f"exploration {record.id}", record.status, record.error)
    print(f"exploration {record.id}: {record.status}, {record.trials} trial(s) in {record.spent_s / 60:.1f} min, "
          f"strategy {record.strategy}")
    if record.reused_run_ids:
        print(f"  reused from the store as baselines (no budget spent): run(s) "
              f"{', '.join(map(str, record.reused_run_ids))}")
    for note in record.notes:
        print(f"  note: {note}")
    if picks.front:
        print(f"\nfront ({constraints.latency} vs {accuracy}, within the constraints):")
        print_table([_run_row(r) for r in picks.front], ["id", "recipe", "batch", *SUMMARY_METRICS])
    else:
        print("no run meets the constraints yet")
    if history:
        print(f"\nhypervolume: {history[-1].share:.3f} of the box after {history[-1].trials} run(s)")
    if picks.fastest:
        print(f"fastest within the constraints: {picks.fastest.reason}")
    if picks.knee:
        print(f"knee of the front: {picks.knee.reason}")
    return _ended(f"exploration {record.id}", record.status, record.error)


def cmd_explorations(args) -> int:
    records = _api().explorations()
    if args.json:
        print(json.dumps([r.to_json() for r in records], indent=2))
    elif not records:
        print("no explorations yet: python -m core explore --model resnet8 --budget-runs 10")
    else:
        print_table([{"id": r.id, "status": r.status, "model": r.config.get("model"), "strategy": r.strategy,
                      "trials": r.trials, "minutes": r.spent_s / 60, "progress": r.progress} for r in records],
                    ["id", "status", "model", "strategy", "trials", "minutes", "progress"])
    return 0


def cmd_remeasure(args) -> int:
    from core.api import SETTINGS
    from core.progress import TqdmProgress

    api = _api()
    try:
        with TqdmProgress() as bar:
            record = api.remeasure(args.run_ids, args.reference, given(args, SETTINGS["remeasure"]), bar)
    except (KeyboardInterrupt, RunCancelled):
        print("re-measurement stopped", file=sys.stderr)
        return EXIT_CANCELLED
    if args.json:
        print(json.dumps(record.to_json(), indent=2))
        return _ended(f"comparison {record.id}", record.status, record.error)
    print(f"comparison {record.id}: {record.status}")
    if record.status == "done":
        config = record.config
        print(f"{config['rounds']} interleaved rounds of {config['block_ms']:g} ms per run; reference run "
              f"{record.reference_id}; ratio = reference latency / run latency (> 1 is faster)")
        print_table([{**r, "ci": f"{r['ci_low']:.3f}–{r['ci_high']:.3f}"} for r in record.results],
                    ["run_id", "p50_ms", "ratio", "ci", "verdict"])
        reference = api.run(record.reference_id)
        for result in record.results:
            if result["verdict"] != "reference":
                print(quoting.paired_quote(record, api.run(result["run_id"]), reference))
        if record.note:
            print(f"note: {record.note}")
    return _ended(f"comparison {record.id}", record.status, record.error)


def cmd_worker(args) -> int:
    from core import jobs
    from core.progress import TqdmProgress
    from core.targets import WorkerSettings

    api = _api()
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
    targets = _api().targets()
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


def cmd_diagnose(args) -> int:
    from core.api import SETTINGS
    from core.progress import TqdmProgress

    api = _api()
    with TqdmProgress() as bar:
        record = api.diagnose(args.run_id, given(args, SETTINGS["diagnose"]), bar)
    if args.json:
        print(json.dumps(record.to_json(), indent=2))
    elif record.status == "done":
        summary = record.summary
        print(f"run {record.run_id}: {summary['metric']} {summary['int8']:.2f}% in INT8, {summary['float']:.2f}% in "
              f"FP32; {summary['quantized_nodes']} quantized nodes compared on {summary['images_compared']} "
              "calibration images (most sensitive first)")
        print_table([{**n, "recovered": "-" if n["recovered"] is None else f"{n['recovered']:+.2f}"}
                     for n in record.nodes], ["node", "op_type", "sqnr_db", "noise_added_pct", "recovered"])
        keep = record.most_sensitive(3)
        if keep:
            print(f"to keep them in float: --technique ort_static_int8:keep_float={'/'.join(keep)}")
    return _ended(f"diagnosis {record.id}", record.status, record.error)


def cmd_profile(args) -> int:
    from core import doctor
    from core.api import SETTINGS
    from core.progress import TqdmProgress

    api = _api()
    with TqdmProgress() as bar:
        record = api.diagnose(args.run_id, given(args, SETTINGS["profile"]), bar, kind="profile")
    if args.json:
        print(json.dumps(record.to_json(), indent=2))
    elif record.status == "done":
        s = record.summary
        print(f"run {record.run_id} ({s['engine']}, batch {s['batch']}): operators {s['operators_ms_per_call']:.3f} "
              f"ms of {s['wall_ms_per_call']:.3f} ms per call over {s['calls']} calls")
        print_table(s["op_types"], ["op_type", "precision", "ms_per_call", "share_pct"])
        print("\nslowest nodes:")
        print_table(record.nodes, ["node", "op_type", "ms_per_call", "share_pct"])
        for finding in doctor.profile_advice(s):
            print(f"doctor: {finding.words()}")
    return _ended(f"profile {record.id}", record.status, record.error)


def cmd_report(args) -> int:
    from pathlib import Path

    path = Path(args.output)
    if path.is_dir():
        raise ConfigError(f"{path} is a folder; give a file name, e.g. {path / 'report.html'}")
    text = _api().report(args.run_ids)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc.strerror}") from None
    print(f"wrote {path} ({len(text) / 1e6:.1f} MB, readable offline)")
    return 0


def cmd_prepare(args) -> int:
    from core.progress import TqdmProgress

    api = _api()
    with TqdmProgress() as bar:
        said = api.prepare_model(args.model, bar)
    print(said)
    return 0


def cmd_cancel(args) -> int:
    status = _api().cancel(args.run_id)
    print(f"run {args.run_id}: {'cancel requested' if status == 'running' else status}")
    return 0


def _add_target_arguments(p: argparse.ArgumentParser, default_model: str) -> None:
    """What is measured: the model, the data and the seeded subset (run and explore)."""
    p.add_argument("--model", default=default_model, help="model name[:key=value,...] or path/to/model.onnx")
    p.add_argument("--dataset", default="fashion-mnist", help="dataset name, or NAME:PATH")
    p.add_argument("--subset", type=int, default=1000, help="evaluation images (seeded, stratified)")
    p.add_argument("--seed", type=int, default=0)


def _add_target_flag(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--target", metavar="NAME", help=f"queue the {what} for a registered target's workers and follow "
                                                    "it (`python -m core targets` lists them)")


def parser() -> argparse.ArgumentParser:
    """The command line; every settings flag is generated from its config's `option()` fields."""
    from core.api import SETTINGS
    from core.models import DEFAULT_MODEL
    from core.targets import WorkerSettings

    top = argparse.ArgumentParser(prog="python -m core", description="InferScope: measure speed vs accuracy.")
    sub = top.add_subparsers(dest="command", required=True)
    for name in ("models", "datasets", "techniques", "scenarios"):
        p = sub.add_parser(name, help=f"list {name}")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=cmd_catalogue)
    p = sub.add_parser("run", help="measure one configuration and store the run")
    _add_target_arguments(p, DEFAULT_MODEL)
    p.add_argument("--technique", action="append", metavar="NAME[:key=value,...]", help="repeat for each step")
    add_arguments(p, SETTINGS["runtime"])
    p.add_argument("--random-weights", action="store_true", help="no pretrained weights: latency only")
    add_arguments(p, SETTINGS["timing"])
    p.add_argument("--scenario", default="single-stream", metavar="NAME[:key=value,...]",
                   help="how load is applied while timing: single-stream, offline, server (e.g. server:rate=200), "
                        "concurrent (e.g. concurrent:clients=8,sessions=2); `python -m core scenarios` lists options")
    p.add_argument("-v", "--verbose", action="store_true", help="also print raw latency samples")
    _add_target_flag(p, "run")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("curve", help="sweep a done run's configuration in the server scenario up to saturation")
    p.add_argument("run_id", type=int)
    add_arguments(p, SETTINGS["curve"], aliases={"latency_bound_ms": "--bound-ms"})
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_curve)
    p = sub.add_parser("explore", help="search a model's techniques within a budget for the speed/accuracy front")
    _add_target_arguments(p, DEFAULT_MODEL)
    budget = p.add_mutually_exclusive_group(required=True)
    budgets = ("budget_minutes", "budget_runs")
    add_arguments(budget, SETTINGS["explore"], only=budgets)
    budget.add_argument("--resume", type=int, metavar="ID", help="continue a stopped exploration")
    add_arguments(p, SETTINGS["explore"], skip=budgets)
    p.add_argument("--space", metavar="FILE.yaml", help="the search space (default: the model's default space)")
    add_arguments(p, SETTINGS["timing"])
    _add_target_flag(p, "exploration")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_explore)
    p = sub.add_parser("explorations", help="list explorations")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_explorations)
    p = sub.add_parser("runs", help="list stored runs")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--json", action="store_true")
    group.add_argument("--csv", action="store_true")
    p.set_defaults(func=cmd_runs)
    p = sub.add_parser("show", help="one run in full")
    p.add_argument("run_id", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_show)
    p = sub.add_parser("front", help="the Pareto front of done runs")
    p.add_argument("--x", default=DEFAULT_LATENCY, choices=list(OBJECTIVES), help="the front's first axis")
    p.add_argument("--y", default=DEFAULT_ACCURACY, choices=list(OBJECTIVES), help="the front's second axis")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_front)
    p = sub.add_parser("export", help="write a run's configuration as a verified ONNX file")
    p.add_argument("run_id", type=int)
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("remeasure", help="time several done runs side by side in one process (paired rounds)")
    p.add_argument("run_ids", type=int, nargs="+", metavar="RUN_ID")
    p.add_argument("--reference", type=int, metavar="RUN_ID",
                   help="the run the others are compared with (default: the oldest FP32 baseline among them, "
                        "else the first)")
    add_arguments(p, SETTINGS["remeasure"])
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_remeasure)
    p = sub.add_parser("diagnose", help="where an INT8 run's accuracy went: each quantized node's error and the "
                                        "accuracy it recovers kept in float")
    p.add_argument("run_id", type=int)
    add_arguments(p, SETTINGS["diagnose"])
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_diagnose)
    p = sub.add_parser("profile", help="where a run's time goes: operator times from onnxruntime's, OpenVINO's or "
                                       "torch's profiler, by type and node")
    p.add_argument("run_id", type=int)
    add_arguments(p, SETTINGS["profile"])
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_profile)
    p = sub.add_parser("report", help="one self-contained HTML file about some runs: chart, comparison, diagnoses, "
                                      "environments")
    p.add_argument("run_ids", type=int, nargs="+", metavar="RUN_ID")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("prepare", help="build a model now (train and cache a local one): its first run starts at once")
    p.add_argument("--model", default=DEFAULT_MODEL, help="model name[:key=value,...] (default %(default)s)")
    p.set_defaults(func=cmd_prepare)
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
    p = sub.add_parser("cancel", help="cancel a queued or running run")
    p.add_argument("run_id", type=int)
    p.set_defaults(func=cmd_cancel)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command = f"python -m core {args.command}"
    set_process_role(f"the worker ({command})" if args.command == "worker" else f"the command `{command}`")
    try:
        return args.func(args)
    except InferScopeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exit_code(exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_CANCELLED
