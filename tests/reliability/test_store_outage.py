"""The store goes away for a few seconds while a run is measured — a PostgreSQL restart, a SQLite file locked by
another writer — and nothing is lost: the run finishes `done`, its timing is not stretched by the wait, and a
store that stays away longer than we wait leaves the measurement on disk, named in the error."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.errors import StoreUnavailable
from core.store import connection
from tests.conftest import ROOT, TINY_MODEL, subprocess_env
from tests.core.test_targets import _stop, _worker, shared_url  # noqa: F401 — a fixture
from tests.helpers import POSTGRES_URL as POSTGRES
from tests.helpers import wait_for


def _hold_exclusive(database: Path, seconds: float) -> threading.Thread:
    """Another writer holds the SQLite file's write lock for `seconds`."""
    def hold() -> None:
        blocker = sqlite3.connect(database, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        time.sleep(seconds)
        blocker.execute("ROLLBACK")
        blocker.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    return thread


def test_a_sqlite_file_locked_for_seconds_mid_run_loses_nothing_and_stretches_no_timing(api, run_request,
                                                                                          monkeypatch):
    monkeypatch.setattr(connection, "BUSY_TIMEOUT_MS", 300)  # past SQLite's own wait, ours takes over
    database = Path(api.store.engine.url.database)
    holders: list[threading.Thread] = []

    def lock_when_timing(stage: str, fraction: float) -> None:
        if stage == "time" and not holders:
            holders.append(_hold_exclusive(database, 4.0))

    run = api.execute(api.submit(run_request(timing={"warmup": 1, "warmup_seconds": 0.0, "min_repeats": 5,
                                                     "min_seconds": 2.0, "max_seconds": 30.0})), lock_when_timing)
    holders[0].join()
    assert run.status == "done" and api.samples(run.id)
    # progress is written beside the timing loop, never in it: the 4 s lock did not stretch the 2 s timing
    assert run.metrics["timing_seconds"] < 3.5


def test_a_store_away_longer_than_we_wait_keeps_the_measurement_and_says_where(api, run_request, monkeypatch):
    def away(*args, **kwargs):
        raise StoreUnavailable("the run store sqlite:///runs.db is not answering (connection refused) — the store "
                               "did not answer for 300 s")

    monkeypatch.setattr(api.store, "finish", away)
    run = api.execute(api.submit(run_request()))
    assert run.status == "failed"
    kept = api.settings.home / "kept" / f"run-{run.id}.json"
    assert run.error.endswith(f"the measurement of run {run.id} was kept in {kept}")
    measurement = json.loads(kept.read_text())
    assert measurement["run_id"] == run.id and measurement["metrics"]["latency_p50_ms"] > 0
    assert len(measurement["samples_ms"]) == measurement["metrics"]["latency_count"]


def _postgres_restart() -> list[str] | None:
    """The command that restarts the test PostgreSQL, where this process may run it (root, a local cluster)."""
    if not POSTGRES or "@localhost" not in POSTGRES or os.geteuid() != 0 or not shutil.which("pg_lsclusters"):
        return None
    listed = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True).stdout.split()
    return ["pg_ctlcluster", listed[0], listed[1], "restart"] if len(listed) >= 2 else None


@pytest.mark.skipif(_postgres_restart() is None, reason="needs a local PostgreSQL this process may restart (root)")
@pytest.mark.usefixtures("shared_url")  # the store every process of the test shares: the test PostgreSQL
def test_a_postgresql_restart_mid_run_loses_nothing(tmp_path):
    from core.api import InferScope

    worker = _worker(tmp_path, "pg-home", "box")
    try:
        api = InferScope()
        wait_for(lambda: [t.live for t in api.targets()] == [True], timeout=60, what="the worker to register")
        follower = subprocess.Popen([sys.executable, "-m", "core", "run", "--target", "box", "--model", TINY_MODEL,
                                     "--subset", "50", "--warmup", "1", "--min-repeats", "5", "--min-seconds", "12"],
                                    cwd=ROOT, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
        wait_for(lambda: any(r.stage == "time" for r in api.runs()), timeout=180, what="the timing stage")
        restart = subprocess.run(_postgres_restart(), capture_output=True, text=True, timeout=120)
        assert restart.returncode == 0, restart.stderr
        out, err = follower.communicate(timeout=300)
        log = (tmp_path / "pg-home.log").read_text()
        (run,) = InferScope().runs()
    finally:
        _stop(worker)
    assert follower.returncode == 0, err
    assert run.status == "done" and run.error is None and int(out.strip().splitlines()[-1]) == run.id
    assert run.metrics["latency_p50_ms"] > 0 and len(InferScope().samples(run.id)) == run.metrics["latency_count"]
    assert worker.poll() is not None and "Traceback" not in log
    # whoever met the store away (the worker's heartbeat, the CLI's polling; a quick restart may fall between two
    # polls, and a pooled connection it closed is replaced by the pre-ping) said so once and that it came back,
    # instead of failing or repeating an error
    for said, callers in ((log, 2), (err, 1)):
        away = said.count("trying again for up to")
        assert away <= callers and (away == 0 or "answers again after" in said), said
