"""Every kind of job lives the same life, on SQLite and on PostgreSQL: queued, claimed, watched, cancelled,
queued again, put back after a lost worker, resumed after a restart, done."""
from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import update

from core.errors import InferScopeError
from core.store import JOB_KINDS, Claimant, RunSpec, RunStore
from core.store.connection import now
from core.store.schema import WorkerRow
from tests.helpers import STORE_BACKENDS, empty_store_url

FIELDS = dict(model="lenet5", model_source="local", model_options={}, dataset="fashion-mnist", dataset_location=None,
              subset_size=10, subset_seed=0, subset_split="test", calibration_split=None,
              recipe=[{"technique": "onnx_export", "config": {}}], runtime={"batch": 1})


def _done_run(store: RunStore) -> int:
    run_id = store.create_run(RunSpec(**FIELDS))
    assert store.claim("run") == run_id
    store.finish(run_id, metrics={"latency_p50_ms": 1.0}, samples_ms=[1.0], notes=[], environment={},
                 fingerprint="f", engine="onnxruntime")
    return run_id


def _create(store: RunStore, kind: str) -> int:
    """A queued job of `kind` (and what it studies)."""
    if kind == "run":
        return store.create_run(RunSpec(**FIELDS))
    if kind == "exploration":
        return store.create_exploration({"model": "lenet5"})
    if kind == "curve":
        return store.create_curve(_done_run(store), {"points": 3})
    if kind == "comparison":
        return store.create_comparison([_done_run(store), _done_run(store)], 1, {"rounds": 5})
    return store.create_diagnosis(_done_run(store), {"calls": 5}, "profile")


def test_every_kind_of_job_has_a_test_and_an_executor():
    from core.jobs import JOBS

    assert [job.kind for job in JOBS] == list(JOB_KINDS)


@pytest.mark.parametrize("backend", STORE_BACKENDS)
@pytest.mark.parametrize("kind", list(JOB_KINDS))
def test_one_lifecycle_for_every_kind(kind, backend, tmp_path):
    store = RunStore(empty_store_url(backend, tmp_path))
    job_id = _create(store, kind)
    assert store.job(kind, job_id).status == "queued" and store.waiting() == [kind]

    # claimed by a registered worker, which records itself on the job; progress is watched the same way
    worker = store.register_worker(None)
    store.identity = store.identity.registered(worker)
    assert store.claim(kind, Claimant("elsewhere")) is None  # addressed to no target: only local workers take it
    assert store.claim(kind) == job_id and store.claim(kind) is None
    assert store.progress(kind, job_id, "measure: step 2 of 3", 0.5) is False
    record = store.job(kind, job_id)
    assert (record.status, record.stage, record.progress, record.worker_id) == ("running", "measure: step 2 of 3",
                                                                               0.5, worker)

    # cancelled while it runs: the next report sees it, the job ends cancelled, and can be queued again
    assert store.cancel(kind, job_id) == "running" and store.progress(kind, job_id, "measure", 0.6) is True
    store.end(kind, job_id, "cancelled", "cancelled by the user during measure")
    assert store.job(kind, job_id).status == "cancelled" and store.waiting() == []
    with pytest.raises(InferScopeError, match=f"{kind} {job_id} is cancelled and cannot become done"):
        store.end(kind, job_id, "done")
    store.requeue(kind, job_id)
    record = store.job(kind, job_id)
    assert record.status == "queued" and record.error is None and not record.cancel_requested

    # its worker falls silent: the job goes back to the queue once, saying so
    assert store.claim(kind) == job_id
    with store._session() as session:
        session.execute(update(WorkerRow).where(WorkerRow.id == worker)
                        .values(heartbeat_at=now() - timedelta(seconds=120), host="elsewhere"))
    assert store.lost_work(60) and store.job(kind, job_id).status == "running"  # reading writes nothing
    assert store.requeue_lost_jobs(60) == [f"{kind} {job_id}: queued again (worker {worker} (pid "
                                           f"{store.identity.pid} on elsewhere) was lost)"]
    record = store.job(kind, job_id)
    assert record.status == "queued" and record.requeues == 1 and record.notes[-1].startswith("queued again at")
    store.identity = store.identity.registered(None)

    # after a restart another process resumes it and finishes it
    restarted = RunStore(store.url)
    restarted.resume(kind, job_id)
    assert restarted.job(kind, job_id).worker_pid == os.getpid()
    restarted.end(kind, job_id, "done")
    record = restarted.job(kind, job_id)
    assert (record.status, record.progress, record.error) == ("done", 1.0, None) and record.finished_at is not None
    with pytest.raises(InferScopeError, match=f"{kind} {job_id} is done; only a cancelled"):
        restarted.requeue(kind, job_id)


def test_the_worker_takes_every_kind_in_order_and_registers_itself(settings, tmp_path):
    from core import jobs

    store = RunStore(settings.db_url)
    ids = {kind: _create(store, kind) for kind in reversed(list(JOB_KINDS))}
    taken = []

    def execute(kind):
        def run(store, job_id, settings, progress, **extra):
            record = store.job(kind, job_id)
            assert record.worker_id is not None and record.worker_role is None
            taken.append((kind, job_id))
            store.end(kind, job_id, "done")
        return run

    fakes = tuple(jobs.Job(job.kind, execute(job.kind)) for job in jobs.JOBS)
    assert jobs.run_worker(settings, store, jobs=fakes) == len(JOB_KINDS)
    assert taken == [(kind, ids[kind]) for kind in JOB_KINDS]
    assert store.live_workers(None, 60) == 0 and store.identity.worker_id is None  # it stopped and said so
