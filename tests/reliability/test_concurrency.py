"""Several processes submit and finish runs at once against one store: nothing lost, nothing doubled,
nothing half-written. SQLite always; PostgreSQL too when INFERSCOPE_TEST_POSTGRES_URL names a scratch
database (the test drops InferScope's tables there first; scripts/test.sh sets one up when it can)."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections import Counter

import pytest

from core.store import RunStore
from tests.conftest import ROOT, subprocess_env
from tests.helpers import STORE_BACKENDS, empty_store_url

WRITERS = 4
RUNS_EACH = 30



def client(url: str, role: str, tag: str, arg: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.reliability.concurrent_client", url, role, tag, arg],
                            cwd=ROOT, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("backend", STORE_BACKENDS)
def test_four_processes_lose_and_double_nothing(backend, tmp_path):
    url = empty_store_url(backend, tmp_path, "shared.db")
    store = RunStore(url)  # create the schema once, as the app would
    assert store.list_runs() == []
    stop = tmp_path / "STOP"
    reader = client(url, "reader", "r", str(stop))
    writers = [client(url, "writer", f"w{k}", str(RUNS_EACH)) for k in range(WRITERS)]
    results = []
    for process in writers:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        results.append(json.loads(out))
    stop.touch()
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    seen = json.loads(out)

    runs = store.list_runs()
    submitted = Counter((r.model_options["writer"], r.model_options["i"]) for r in runs)
    finished = [run_id for result in results for run_id in result["finished"]]
    assert len(runs) == WRITERS * RUNS_EACH == len(submitted)        # no row lost, none duplicated
    assert set(submitted.values()) == {1}
    assert sorted(finished) == sorted(r.id for r in runs)             # every run finished exactly once
    assert all(r.status == "done" and store.samples(r.id) for r in runs)
    assert seen["reads"] > 0 and seen["half_written"] == []           # readers never saw a half-written run
    if backend == "sqlite":
        with sqlite3.connect(tmp_path / "shared.db") as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    print(f"{backend}: {len(runs)} runs written by {WRITERS} processes, {seen['reads']} concurrent reads, 0 lost")
