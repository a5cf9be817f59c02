"""Injected faults: after each, the store is consistent (integrity check, no orphaned rows) and the app recovers."""
from __future__ import annotations

import errno
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.errors import InferScopeError, RunCancelled, StoreError
from core.store import connection
from tests.conftest import ROOT, TINY_MODEL, subprocess_env
from tests.helpers import wait_for


def database(api) -> Path:
    return Path(api.store.engine.url.database)


def assert_consistent(api) -> None:
    """The file passes SQLite's integrity check and every run is in a coherent state."""
    with sqlite3.connect(database(api)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    for run in api.runs():
        if run.status == "done":
            assert run.metrics["latency_p50_ms"] is not None and api.samples(run.id)
        else:
            assert run.metrics["latency_p50_ms"] is None and not api.samples(run.id)
        if run.status in ("failed", "cancelled", "interrupted"):
            assert run.error and run.finished_at is not None


def test_worker_killed_mid_run_puts_it_back_in_the_queue_once_and_the_queue_resumes(api, run_request):
    from core.api import InferScope

    first = api.submit(run_request(timing={"min_seconds": 300, "max_seconds": 600}))
    second = api.submit(run_request())
    worker = subprocess.Popen([sys.executable, "-m", "core", "worker"], cwd=ROOT, env=subprocess_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: api.run(first).stage == "time", what="the timing stage")
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    assert api.run(first).status == "running"  # nobody could record the death yet
    restarted = InferScope()                    # an app restart: reading writes nothing
    assert restarted.run(first).status == "running" and restarted.run(second).status == "queued"
    assert restarted.resume_queue()             # a new worker finds the lost one and takes the run again
    wait_for(lambda: restarted.run(first).requeues == 1 and restarted.run(first).status == "running",
             what="the lost run to be taken again")
    note = restarted.run(first).notes[-1]
    assert note.startswith("queued again at") and f"(pid {worker.pid} on " in note and "during stage 'time'" in note
    assert restarted.cancel(first) == "running"
    wait_for(lambda: restarted.run(second).status == "done", what="the queue to resume")
    assert restarted.run(first).status == "cancelled"
    assert_consistent(restarted)


def test_app_restart_with_jobs_queued_resumes_them(api, run_request, monkeypatch):
    from core import jobs
    from core.api import InferScope

    monkeypatch.setenv("INFERSCOPE_AUTOSTART_WORKER", "0")
    ids = [InferScope().submit(run_request()) for _ in range(2)]
    assert not jobs.worker_alive(api.settings)  # the app went away with both runs queued
    monkeypatch.setenv("INFERSCOPE_AUTOSTART_WORKER", "1")
    restarted = InferScope()
    assert restarted.resume_queue()
    wait_for(lambda: all(restarted.run(i).status == "done" for i in ids), what="the queued runs")
    assert_consistent(restarted)


def test_app_restart_with_only_a_diagnosis_queued_resumes_it(api, run_request, monkeypatch):
    from core import jobs
    from core.api import InferScope

    run = api.execute(api.submit(run_request("onnx_export", "ort_static_int8")))
    monkeypatch.setenv("INFERSCOPE_AUTOSTART_WORKER", "0")
    diagnosis_id = InferScope().request_diagnosis(run.id, {"candidates": 1, "images": 8})
    assert not jobs.worker_alive(api.settings)  # the app went away with nothing but a diagnosis queued
    monkeypatch.setenv("INFERSCOPE_AUTOSTART_WORKER", "1")
    restarted = InferScope()
    assert restarted.resume_queue()
    wait_for(lambda: restarted.store.diagnosis(diagnosis_id).status == "done", what="the queued diagnosis")


@pytest.mark.parametrize("stage", ["ort_static_int8", "time"], ids=["during calibration", "during timing"])
def test_cancel_mid_stage_stores_cancelled_and_the_next_run_works(api, run_request, stage):
    run_id = api.submit(run_request("onnx_export", "ort_static_int8:calibration_size=160",
                                    timing={"min_seconds": 30, "max_seconds": 60}))
    seen = []

    def cancel_in_stage(name: str, fraction: float) -> None:
        seen.append((name, fraction))
        if name == stage and 0 < fraction < 1:
            api.cancel(run_id)

    with pytest.raises(RunCancelled):
        api.execute(run_id, cancel_in_stage)
    run = api.run(run_id)
    assert run.status == "cancelled" and run.stage == stage and "cancel" in run.error
    assert seen[-1][0] == stage and seen[-1][1] < 1  # it stopped inside the stage
    assert api.execute(api.submit(run_request())).status == "done"
    assert_consistent(api)


def test_full_disk_during_export_leaves_no_file_and_a_clear_error(api, run_request, tmp_path, monkeypatch):
    run = api.execute(api.submit(run_request("onnx_export")))
    target = tmp_path / "out" / "model.onnx"
    real_write = Path.write_bytes

    def full_disk(path: Path, data: bytes) -> int:
        if ".partial-" in path.name:
            real_write(path, data[: len(data) // 2])  # half the file reaches the disk, then it is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(path, data)

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    with pytest.raises(InferScopeError, match="could not write .*No space left on device; free some space"):
        api.export(run.id, target)
    assert list(target.parent.iterdir()) == []  # neither the file nor a partial one
    monkeypatch.setattr(Path, "write_bytes", real_write)
    assert api.export(run.id, target).path.is_file()  # space freed: the export works
    assert_consistent(api)


def test_read_only_database_reads_and_refuses_writes_clearly(api, run_request):
    from dataclasses import replace

    from core.api import InferScope

    done = api.execute(api.submit(run_request()))
    read_only = InferScope(replace(api.settings, db_url=f"sqlite:///file:{database(api)}?mode=ro&uri=true"))
    assert [r.id for r in read_only.runs()] == [done.id]
    with pytest.raises(StoreError, match="read-only; make the file and its folder writable"):
        read_only.submit(run_request())
    assert [r.id for r in api.runs()] == [done.id]
    assert_consistent(api)


def test_database_locked_past_the_busy_timeout_retries_then_says_so(api, run_request, monkeypatch):
    from core.api import InferScope

    monkeypatch.setattr(connection, "BUSY_TIMEOUT_MS", 400)
    monkeypatch.setenv("INFERSCOPE_STORE_RETRY_S", "1.5")
    fresh = InferScope()  # its connections wait at most 0.4 s for a lock, its calls 1.5 s for the store
    blocker = sqlite3.connect(database(api), isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    started = time.monotonic()
    with pytest.raises(StoreError, match=r"stayed locked by another writer .* try again .*did not answer for \d+ s"):
        fresh.submit(run_request())
    assert time.monotonic() - started >= 1.5  # it waited (SQLite's busy timeout, then ours) before giving up
    blocker.execute("ROLLBACK")
    blocker.close()
    assert fresh.run(fresh.submit(run_request())).status == "queued"  # the lock is gone: it works
    assert len(api.runs()) == 1
    assert_consistent(api)


def test_exported_file_deleted_before_download_says_build_again(app_page, api, run_request):
    run = api.execute(api.submit(run_request("onnx_export")))
    at = app_page("export")
    at.selectbox(key="export_choice_None").set_value(run.id).run()  # no baseline, no recommendation: pick it
    at.button(key="build").click().run()
    exported = Path(at.session_state["exported"]["path"])
    assert exported.is_file()
    exported.unlink()  # removed (by a cleanup, a user) between the build and the download
    at.run()
    assert not at.exception and "was removed after it was built; build it again" in at.error[0].value
    assert not at.get("download_button") or all(b.proto.label != "Download ONNX" for b in at.get("download_button"))
    assert_consistent(api)


def test_a_killed_cli_run_names_the_command_that_ran_it(api):
    from core.api import InferScope

    command = [sys.executable, "-m", "core", "run", "--model", TINY_MODEL, "--subset", "20", "--min-seconds", "300",
               "--max-seconds", "600"]
    process = subprocess.Popen(command, cwd=ROOT, env=subprocess_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    wait_for(lambda: [r.stage for r in api.runs()] == ["time"], what="the timing stage")
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    restarted = InferScope()
    assert [r.status for r in restarted.runs()] == ["running"] and restarted.store.lost_work(60)  # reads only
    (line,) = restarted.store.requeue_lost_jobs(60)  # what the next worker does first
    (run,) = restarted.runs()
    assert line.startswith(f"run {run.id}: queued again") and run.status == "queued"
    assert (f"the command `python -m core run` (pid {process.pid} on " in run.notes[-1]
            and "during stage 'time'" in run.notes[-1])
    assert restarted.cancel(run.id) == "cancelled"
    assert_consistent(api)
