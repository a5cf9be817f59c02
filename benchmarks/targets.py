"""Many workers on a few targets claiming from one PostgreSQL store: claims per second, duplicates, lost jobs.

Target: 8 worker processes on 2 targets claim 2,000 short synthetic jobs; 2 workers are SIGKILLed
mid-way; every job ends done exactly once (0 duplicate claims), none is lost, and the killed workers'
jobs are requeued once. The workers are the real worker loop (`core.jobs.run_worker`: registration,
heartbeat, `FOR UPDATE SKIP LOCKED` claims, the lost-worker sweep); only the job itself is synthetic (it
sleeps `--job-ms` and stores a result), so the figure is the queue's, not a model's.

The store must be a scratch database: InferScope's tables there are dropped first.

    .venv/bin/python benchmarks/targets.py --url postgresql+psycopg://inferscope:inferscope@localhost/inferscope_test
        [--workers 8] [--targets 2] [--jobs 2000] [--kill 2] [--job-ms 5]
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def synthetic_job(log: Path, job_ms: float):
    """A job that takes `job_ms`, stores a result, and writes one line per start and per end."""
    def execute(store, run_id, settings, progress) -> None:
        with open(log, "a") as out:
            out.write(f"start {run_id}\n")
        time.sleep(job_ms / 1000)
        store.finish(run_id, metrics={"latency_p50_ms": job_ms}, samples_ms=[job_ms], notes=[], environment={},
                     fingerprint="synthetic", engine="synthetic")
        with open(log, "a") as out:
            out.write(f"end {run_id}\n")
    return execute


def worker_main(args) -> int:
    """One worker process: the real loop with a synthetic job, until the stop file appears."""
    from core.jobs import Job, run_worker
    from core.settings import load_settings
    from core.store import RunStore
    from core.targets import WorkerSettings

    settings = load_settings()
    store = RunStore(settings.db_url)
    job = Job("run", lambda s, who: s.claim("run", who), synthetic_job(Path(args.log), args.job_ms))
    stop = Path(args.stop)
    run_worker(settings, store, target=args.worker_of, jobs=(job,), wait=True, should_stop=stop.exists,
               worker=WorkerSettings(heartbeat_s=0.5, requeue_after_s=5.0, poll_s=0.05))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("INFERSCOPE_TEST_POSTGRES_URL"),
                        help="a scratch database's SQLAlchemy URL (its InferScope tables are dropped)")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--targets", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--kill", type=int, default=2, help="workers SIGKILLed when half the jobs are done")
    parser.add_argument("--job-ms", type=float, default=5.0)
    parser.add_argument("--worker-of", help=argparse.SUPPRESS)
    parser.add_argument("--log", help=argparse.SUPPRESS)
    parser.add_argument("--stop", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_of:
        return worker_main(args)
    if not args.url:
        parser.error("give --url of a scratch database (or set INFERSCOPE_TEST_POSTGRES_URL)")

    from sqlalchemy import create_engine, func, select, text

    from core.store import RunSpec, RunStore
    from core.store.schema import Base, RunRow

    scratch = create_engine(args.url)
    Base.metadata.drop_all(scratch)
    with scratch.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    scratch.dispose()
    store = RunStore(args.url)
    targets = [f"target-{k}" for k in range(args.targets)]
    for k in range(args.jobs):
        store.create_run(RunSpec(model="synthetic", model_source="local", model_options={}, dataset="fashion-mnist",
                                 dataset_location=None, subset_size=1, subset_seed=0, subset_split=None,
                                 calibration_split=None, recipe=[], runtime={}, target=targets[k % len(targets)]))

    folder = Path(tempfile.mkdtemp(prefix="inferscope-targets-"))
    log, stop = folder / "jobs.log", folder / "STOP"
    workers = []
    started = time.monotonic()
    for k in range(args.workers):
        home = folder / f"worker-{k}"
        home.mkdir()
        env = {**os.environ, "INFERSCOPE_HOME": str(home), "INFERSCOPE_DB": args.url,
               "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        workers.append(subprocess.Popen([sys.executable, __file__, "--worker-of", targets[k % len(targets)],
                                         "--log", str(log), "--stop", str(stop), "--job-ms", str(args.job_ms)],
                                        env=env, stdout=subprocess.DEVNULL, stderr=open(folder / f"w{k}.err", "w")))

    def done() -> int:
        with store.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(RunRow).where(RunRow.status == "done")).scalar_one()

    first_claim = None
    while done() < args.jobs // 2:
        if first_claim is None and log.exists():
            first_claim = time.monotonic()
        time.sleep(0.05)
    killed = workers[:args.kill]
    for worker in killed:
        worker.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    deadline = time.monotonic() + 300
    while done() < args.jobs and time.monotonic() < deadline:
        time.sleep(0.1)
    finished = time.monotonic()
    stop.touch()
    for worker in workers[args.kill:]:
        worker.wait(timeout=60)

    with store.engine.connect() as conn:
        rows = conn.execute(select(RunRow.id, RunRow.status, RunRow.requeues)).all()
    lines = log.read_text().split()
    starts = Counter(int(run_id) for word, run_id in zip(lines[::2], lines[1::2]) if word == "start")
    requeues = {row.id: row.requeues for row in rows}
    duplicates = sum(max(0, starts[run_id] - 1 - requeues[run_id]) for run_id in requeues)
    lost = sum(row.status != "done" for row in rows)
    requeued = sum(1 for r in requeues.values() if r)
    wall = finished - (first_claim or started)
    print(f"{args.workers} workers on {args.targets} targets, {args.jobs} jobs of {args.job_ms:g} ms, "
          f"{args.kill} SIGKILLed at {args.jobs // 2} done ({store.engine.dialect.name})")
    print(f"  claims per second: {args.jobs / wall:.0f} over {wall:.1f} s (first claim to last job done)")
    print(f"  duplicates: {duplicates}   lost: {lost}   requeued after the kills: {requeued}   "
          f"all done {finished - killed_at:.1f} s after the kills")
    print(f"  per-claim overhead: {1000 * wall * args.workers / args.jobs - args.job_ms:.1f} ms per job per worker "
          "beyond the job itself")
    return 0 if duplicates == 0 and lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
