"""The job queue with real worker processes."""
import os
import subprocess
import sys

from core import jobs
from core.settings import load_settings
from tests.conftest import ROOT, subprocess_env
from tests.helpers import wait_for


def test_ensure_worker_runs_the_queue_in_another_process(api, run_request):
    ids = [api.submit(run_request()), api.submit(run_request("onnx_export"))]
    assert jobs.ensure_worker(load_settings())
    wait_for(lambda: all(api.run(i).status == "done" for i in ids), what="both runs done")
    runs = [api.run(i) for i in ids]
    assert all(r.worker_pid and r.worker_pid != os.getpid() for r in runs)
    assert runs[0].finished_at <= runs[1].started_at  # one at a time
    wait_for(lambda: not jobs.worker_alive(load_settings()), what="the worker to exit")
    # the app reaps its finished worker: no <defunct> child stays behind until the next one starts
    import psutil

    wait_for(lambda: not [c for c in psutil.Process().children() if c.status() == psutil.STATUS_ZOMBIE],
             what="the finished worker reaped")


REAPED = """
import time, psutil
from core import jobs
from core.settings import load_settings
assert jobs.ensure_worker(load_settings())  # the queue is empty: the worker starts and ends at once
deadline = time.time() + 120
while time.time() < deadline and any(c.status() != psutil.STATUS_ZOMBIE for c in psutil.Process().children()):
    time.sleep(0.2)
time.sleep(0.5)
print(sum(c.status() == psutil.STATUS_ZOMBIE for c in psutil.Process().children()))
"""


def test_the_app_reaps_the_worker_it_started():
    """A fresh interpreter, as the app is: its finished worker must not stay a <defunct> child."""
    result = subprocess.run([sys.executable, "-c", REAPED], cwd=ROOT, env=subprocess_env(), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"


def test_only_one_worker_holds_the_queue(api):
    settings = load_settings()
    lock = jobs._try_lock(settings)
    try:
        assert jobs.worker_alive(settings)
        assert not jobs.ensure_worker(settings)
        assert jobs.run_worker(settings, api.store) == 0
    finally:
        lock.close()
    assert not jobs.worker_alive(settings)


def test_no_autostart_leaves_runs_queued(api, run_request, monkeypatch):
    monkeypatch.setenv("INFERSCOPE_AUTOSTART_WORKER", "0")
    assert not jobs.ensure_worker(load_settings())


def _worker(env=None):
    return subprocess.Popen([sys.executable, "-m", "core", "worker"], cwd=ROOT, env=subprocess_env(env),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_cancel_a_running_job(api, run_request):
    run_id = api.submit(run_request(timing={"min_seconds": 300, "max_seconds": 600}))
    worker = _worker()
    try:
        wait_for(lambda: api.run(run_id).stage == "time", what="the timing stage")
        assert api.cancel(run_id) == "running"
        wait_for(lambda: api.run(run_id).status == "cancelled", timeout=30, what="cancelled")
        assert worker.wait(timeout=30) == 0
    finally:
        worker.kill()
    assert "cancelled by the user during time" in api.run(run_id).error




def test_the_worker_keeps_to_its_cpu_set_and_records_it(api, run_request, monkeypatch):
    first = sorted(os.sched_getaffinity(0))[0]
    monkeypatch.setenv("INFERSCOPE_WORKER_CPUS", str(first))
    run_id = api.submit(run_request())
    assert jobs.ensure_worker(load_settings())
    wait_for(lambda: api.run(run_id).status == "done", what="the run done")
    environment = api.run(run_id).environment
    assert environment["cpu_affinity"] == [first] and environment["logical_cores"] == 1


def test_a_cpu_set_is_checked_before_anything_starts(monkeypatch):
    import pytest

    from core.errors import ConfigError
    from core.settings import parse_cpu_list

    assert parse_cpu_list("", "X") is None
    assert parse_cpu_list(f"{sorted(os.sched_getaffinity(0))[0]}", "X") == (sorted(os.sched_getaffinity(0))[0],)
    with pytest.raises(ConfigError, match="is not a list of cores; write e.g. 1 or 0,2-3"):
        parse_cpu_list("one", "INFERSCOPE_WORKER_CPUS")
    with pytest.raises(ConfigError, match="names cores this machine does not give InferScope"):
        parse_cpu_list("4096", "INFERSCOPE_WORKER_CPUS")
    monkeypatch.setenv("INFERSCOPE_NOISY_CPU_PCT", "nan")
    with pytest.raises(ConfigError, match="INFERSCOPE_NOISY_CPU_PCT='nan' must be a non-negative number"):
        load_settings()
