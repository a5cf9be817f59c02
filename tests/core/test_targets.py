"""Targets: workers of named machines sharing one store (PostgreSQL when CI names one, else SQLite).

Every worker here is a real `python -m core worker --target NAME` process with its own data directory,
as on another machine; only the store is shared.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text, update

from core.store import Claimant, RunSpec, RunStore
from core.store.connection import now
from core.store.schema import WorkerRow
from tests.conftest import CACHE_FOLDERS, FAST_TIMING, ROOT, TINY_MODEL, subprocess_env
from tests.helpers import POSTGRES_URL, STORE_BACKENDS, empty_store_url, wait_for

QUICK = ["--heartbeat-s", "0.3", "--poll-s", "0.2", "--requeue-after-s", "3"]


@pytest.fixture
def shared_url(tmp_path, monkeypatch):
    """The one store every worker of these tests shares: CI's PostgreSQL when there is one."""
    url = empty_store_url("postgres" if POSTGRES_URL else "sqlite", tmp_path, "shared.db")
    monkeypatch.setenv("INFERSCOPE_DB", url)
    return url


def _home(tmp_path: Path, name: str) -> Path:
    """Another machine's data directory: its own uploads, lock and log; the test session's trained weights."""
    home = tmp_path / name
    home.mkdir()
    for folder in CACHE_FOLDERS:
        (home / folder).symlink_to((Path(os.environ["INFERSCOPE_HOME"]) / folder).resolve(), target_is_directory=True)
    return home


def _worker(tmp_path: Path, name: str, target: str, *extra: str) -> subprocess.Popen:
    log = open(tmp_path / f"{name}.log", "w")
    return subprocess.Popen([sys.executable, "-m", "core", "worker", "--target", target, *QUICK, *extra], cwd=ROOT,
                            env=subprocess_env({"INFERSCOPE_HOME": str(_home(tmp_path, name))}),
                            stdout=log, stderr=subprocess.STDOUT)


def _stop(*workers: subprocess.Popen) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def _register(store: RunStore, target: str) -> None:
    from core.targets import target_environment

    store.register_worker(target, target_environment())


@pytest.mark.parametrize("backend", STORE_BACKENDS)
def test_claims_take_only_the_claimants_target(backend, tmp_path):
    from tests.core.store.test_store import FIELDS

    url = empty_store_url(backend, tmp_path)
    store = RunStore(url)
    ids = {target: store.create_run(RunSpec(**{**FIELDS, "target": target})) for target in ("a", "b", None)}
    assert store.claim("run", Claimant("a")) == ids["a"]
    assert store.claim("run", Claimant("a")) is None                   # b's and unaddressed work stay
    assert store.claim("run", Claimant("b", accepts_unaddressed=True)) == ids["b"]
    assert store.claim("run", Claimant("b", accepts_unaddressed=True)) == ids[None]
    assert store.claim("run") is None


def test_an_unknown_target_is_refused_before_anything_is_stored(api, run_request):
    from core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"Target 'edge' is not registered \(registered: none yet\); start "
                                          r"`python -m core worker --target edge`"):
        api.submit(run_request(target="edge"))
    with pytest.raises(ConfigError, match="Target 'a b' is not a valid name"):
        api.submit(run_request(target="a b"))
    assert api.runs() == []


def test_cuda_on_a_target_is_checked_against_what_the_target_registered(api, run_request):
    from core.errors import RecipeError

    _register(api.store, "cpu-box")
    with pytest.raises(RecipeError, match="device cuda: target cpu-box registered no GPU"):
        api.plan(run_request(target="cpu-box", device="cuda"))


def test_two_targets_each_take_only_their_own_work(shared_url, tmp_path, run_request):
    from core.api import InferScope

    api = InferScope()
    for target in ("laptop", "server"):
        _register(api.store, target)
    ids = {target: api.submit(run_request(target=target, subset=50)) for target in ("laptop", "server")}
    workers = {t: _worker(tmp_path, f"home-{t}", t, "--once") for t in ("laptop", "server")}
    for worker in workers.values():
        assert worker.wait(timeout=300) == 0, (tmp_path / "home-laptop.log").read_text()
    with api.store._session() as session:
        target_of = dict(session.execute(text("SELECT id, target FROM workers")).all())
    for target, run_id in ids.items():
        run = api.run(run_id)
        assert run.status == "done", run.error
        assert run.target == target and target_of[_worker_id(api, run_id)] == target
    assert api.run(ids["laptop"]).worker_pid == workers["laptop"].pid
    assert api.run(ids["server"]).worker_pid == workers["server"].pid
    assert {t.name: t.queued for t in api.targets()} == {"laptop": 0, "server": 0}


def _worker_id(api, run_id: int) -> int:
    with api.store._session() as session:
        return session.execute(text("SELECT worker_id FROM runs WHERE id = :id"), {"id": run_id}).scalar_one()


def test_a_killed_workers_run_is_requeued_once_and_finished_by_another(shared_url, tmp_path, run_request):
    from core.api import InferScope

    api = InferScope()
    _register(api.store, "box")
    run_id = api.submit(run_request(target="box", subset=100, timing={**FAST_TIMING, "min_seconds": 6.0}))
    first = _worker(tmp_path, "first", "box")
    try:
        wait_for(lambda: api.run(run_id).status == "running", timeout=120, what="the first worker to start the run")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        assert api.run(run_id).status == "running"                       # nobody knows yet
        second = _worker(tmp_path, "second", "box", "--once")
        assert second.wait(timeout=300) == 0, (tmp_path / "second.log").read_text()
    finally:
        _stop(first)
    run = api.run(run_id)
    assert run.status == "done" and run.requeues == 1 and run.worker_pid == second.pid
    assert any(note.startswith("queued again at") and "stopped answering" in note for note in run.notes)
    assert "run " + str(run_id) + ": queued again" in (tmp_path / "second.log").read_text()


def test_a_silent_worker_is_lost_after_the_timeout_and_a_second_loss_interrupts(shared_url, run_request):
    from core.api import InferScope

    api = InferScope()
    run_id = api.submit(run_request())
    worker_id = api.store.register_worker("far", {"cpu": "elsewhere"})
    for attempt in (1, 2):
        api.store.identity = api.store.identity.registered(worker_id)
        try:
            assert api.store.claim("run", Claimant(None)) == run_id
        finally:
            api.store.identity = api.store.identity.registered(None)
        assert api.store.requeue_lost_jobs(timeout_s=60) == []           # beating recently: not lost
        with api.store._session() as session:                            # it falls silent, on another host
            session.execute(update(WorkerRow).where(WorkerRow.id == worker_id)
                            .values(heartbeat_at=now() - timedelta(seconds=120), host="elsewhere"))
        said = api.store.requeue_lost_jobs(timeout_s=60)
        assert said and api.store.requeue_lost_jobs(timeout_s=60) == []   # declared lost once only
        if attempt == 1:
            assert said == [f"run {run_id}: queued again (worker {worker_id} of target far (pid {os.getpid()} on "
                            "elsewhere) was lost)"]
            assert api.run(run_id).status == "queued" and api.run(run_id).requeues == 1
            worker_id = api.store.register_worker("far", {"cpu": "elsewhere"})
        else:
            run = api.run(run_id)
            assert run.status == "interrupted" and "queued again once already" in run.error
    assert not api.store.heartbeat(worker_id)                            # a lost worker learns it was lost


def test_an_upload_reaches_a_worker_with_another_data_directory(shared_url, tmp_path, run_request, settings):
    from core.api import InferScope
    from tests.core.test_api import onnx_bytes

    api = InferScope()
    _register(api.store, "remote")
    path = api.save_upload("mine.onnx", onnx_bytes(tmp_path))
    run_id = api.submit(run_request(model=str(path), target="remote", subset=50))
    path.unlink()                                                        # the other machine never had the file
    worker = _worker(tmp_path, "remote-home", "remote", "--once")
    assert worker.wait(timeout=300) == 0
    run = api.run(run_id)
    assert run.status == "done", run.error
    fetched = tmp_path / "remote-home" / "uploads" / f"{run.model_sha256}.onnx"
    assert fetched.is_file() and not path.exists()


def test_a_parallel_exploration_on_two_workers_measures_no_configuration_twice(shared_url, tmp_path):
    from core.api import InferScope
    from core.explore import parse_space
    from core.explore.trials import run_key
    from core.planning import ExploreRequest

    api = InferScope()
    _register(api.store, "pair")
    space = parse_space({"techniques": {"quantize": ["none", "torch_dynamic_int8"]},
                         "runtime": {"threads": [1, 2], "batch": [1, 4]}})
    workers = [_worker(tmp_path, f"w{k}", "pair") for k in range(2)]
    try:
        wait_for(lambda: api.targets()[0].live_workers == 2, timeout=60, what="both workers to beat")
        exploration_id = api.submit_exploration(ExploreRequest(
            model=TINY_MODEL, subset=50, space=space, timing=dict(FAST_TIMING), target="pair",
            options={"budget_runs": 6, "paired_check": False}))
        wait_for(lambda: api.exploration(exploration_id).status not in ("queued", "running"), timeout=600,
                 what="the exploration to end")
    finally:
        _stop(*workers)
    record = api.exploration(exploration_id)
    assert record.status == "done", record.error
    trials = [r for r in api.exploration_runs(exploration_id) if r.exploration_id == exploration_id]
    keys = Counter(run_key(r) for r in trials)
    assert len(trials) == 6 and set(keys.values()) == {1}                # budget kept, nothing measured twice
    assert all(r.status == "done" and r.target == "pair" for r in trials)
    assert len({r.worker_pid for r in trials}) == 2                      # both workers measured trials


def test_a_worker_declared_lost_cannot_store_a_result_over_its_successor(shared_url, run_request):
    from core.api import InferScope
    from core.errors import InferScopeError

    api = InferScope()
    run_id = api.submit(run_request())
    late, successor = (api.store.register_worker("far", {}) for _ in range(2))
    try:
        api.store.identity = api.store.identity.registered(late)
        assert api.store.claim("run") == run_id
        with api.store._session() as session:
            session.execute(update(WorkerRow).where(WorkerRow.id == late)
                            .values(heartbeat_at=now() - timedelta(seconds=120), host="elsewhere"))
        assert api.store.requeue_lost_jobs(timeout_s=60)
        api.store.identity = api.store.identity.registered(successor)
        assert api.store.claim("run") == run_id
        api.store.identity = api.store.identity.registered(late)                               # the late one wakes up and finishes
        with pytest.raises(InferScopeError, match=f"handed to worker {successor} after this worker"):
            api.store.end("run", run_id, "failed", "late")
    finally:
        api.store.identity = api.store.identity.registered(None)
    assert api.run(run_id).status == "running"


def test_a_target_that_lacks_the_data_fails_the_run_saying_what_to_install_there(api, run_request, tmp_path):
    _register(api.store, "edge")
    run_id = api.submit(run_request(target="edge"))
    with api.store._session() as session:  # the run names data at a place this machine lacks
        session.execute(text("UPDATE runs SET dataset_location = :p WHERE id = :id"),
                        {"p": str(tmp_path / "not-here"), "id": run_id})
    run = api.execute(run_id)
    assert run.status == "failed"
    assert run.error.startswith("on target edge (host ") and "not-here" in run.error


def test_an_exploration_of_an_onnx_file_keeps_its_bytes_for_the_targets_workers(api, tmp_path):
    from core.planning import ExploreRequest
    from tests.helpers import TinyClassifier, export_onnx

    _register(api.store, "pair")
    path = export_onnx(tmp_path / "net.onnx", TinyClassifier(), (1, 3, 16, 16), {"x": {0: "n"}})
    api.submit_exploration(ExploreRequest(model=f"{path}:mean=0.5/0.5/0.5", dataset="synthetic", subset=10,
                                          target="pair", options={"budget_runs": 2}))
    (upload,) = api.store.uploads()
    assert api.store.upload_data(upload.sha256) == path.read_bytes() and upload.name == "net.onnx"


def test_the_cli_queues_a_run_for_a_target_follows_it_and_lists_the_target(shared_url, tmp_path):
    worker = _worker(tmp_path, "box-home", "box")
    try:
        from core.api import InferScope

        api = InferScope()
        wait_for(lambda: [t.live for t in api.targets()] == [True], timeout=60, what="the worker to register")
        done = subprocess.run([sys.executable, "-m", "core", "run", "--target", "box", "--model", TINY_MODEL,
                               "--subset", "50", "--min-repeats", "5", "--warmup", "1"], cwd=ROOT,
                              env=subprocess_env(), capture_output=True, text=True, timeout=300)
        listed = subprocess.run([sys.executable, "-m", "core", "targets", "--json"], cwd=ROOT, env=subprocess_env(),
                                capture_output=True, text=True, timeout=120)
    finally:
        _stop(worker)
    assert done.returncode == 0, done.stderr
    assert "for target box (1 live worker(s)" in done.stderr and "target: box" in done.stdout
    run = api.run(int(done.stdout.strip().splitlines()[-1]))
    assert run.status == "done" and run.worker_pid == worker.pid            # measured by the target's worker
    (target,) = json.loads(listed.stdout)
    assert target["name"] == "box" and target["live_workers"] == 1 and target["queued"] == 0
