import os
import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from core.errors import InferScopeError, MeasurementError, StoreError
from core.metrics import added_in
from core.store import SCHEMA_VERSION, RunSpec, RunStore
from core.store.schema import V3_METRICS

FIELDS = dict(model="lenet5", model_source="local", model_options={}, dataset="fashion-mnist", dataset_location=None,
              subset_size=10, subset_seed=0, subset_split="test", calibration_split=None,
              recipe=[{"technique": "onnx_export", "config": {}}], runtime={"batch": 1})


@pytest.fixture
def store(tmp_path):
    return RunStore(f"sqlite:///{tmp_path / 'store.db'}")


def test_lifecycle_and_plain_records(store):
    run_id = store.create_run(RunSpec(**FIELDS))
    assert store.get(run_id).status == "queued"
    store.start("run", run_id)
    store.progress("run", run_id, "evaluate", 0.5)
    running = store.get(run_id)
    assert (running.status, running.stage, running.progress, running.worker_pid) == ("running", "evaluate", 0.5,
                                                                                    os.getpid())
    store.finish(run_id, metrics={"latency_p50_ms": 1.5, "top1": 90.0}, samples_ms=[1.0, 2.0], notes=["n"],
                 environment={"cpu": "x"}, fingerprint="abc", engine="onnxruntime")
    done = store.get(run_id)
    assert done.status == "done" and done.metrics["latency_p50_ms"] == 1.5 and done.metrics["top5"] is None
    assert store.samples(run_id) == [1.0, 2.0] and done.recipe_summary == "onnx_export"
    with pytest.raises(InferScopeError, match="is done and cannot become failed"):
        store.end("run", run_id, "failed", "late")


@pytest.mark.parametrize("metrics, samples, found", [
    ({"latency_p50_ms": -9223372036385.0}, [1.0], "latency_p50_ms = -9223372036385.0"),
    ({"latency_p50_ms": float("nan")}, [1.0], "latency_p50_ms = nan"),
    ({"latency_p99_ms": float("inf")}, [1.0], "latency_p99_ms = inf"),
    ({"latency_p50_ms": 1.0}, [1.0, float("nan"), -2.0], "2 raw sample"),
])
def test_a_run_with_an_impossible_latency_is_never_stored_as_done(store, metrics, samples, found):
    run_id = store.create_run(RunSpec(**FIELDS))
    store.start("run", run_id)
    with pytest.raises(MeasurementError, match=f"run {run_id} measured impossible latencies \\({found}"):
        store.finish(run_id, metrics=metrics, samples_ms=samples, notes=[], environment={}, fingerprint="f",
                     engine="x")
    run = store.get(run_id)
    assert run.status == "running" and run.metrics["latency_p50_ms"] is None and store.samples(run_id) == []


def test_sqlite_pragmas_and_named_constraints(store, tmp_path):
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 1000
    schema = sqlite3.connect(tmp_path / "store.db").execute("select sql from sqlite_master where name='runs'").fetchone()[0]
    assert "CONSTRAINT ck_runs_status" in schema and "latency_p50_ms" in schema
    with pytest.raises(IntegrityError, match="subset_size_positive"):
        store.create_run(RunSpec(**{**FIELDS, "subset_size": 0}))


def test_schema_version_and_newer_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'v.db'}"
    assert RunStore(url).schema_version() == SCHEMA_VERSION
    with sqlite3.connect(tmp_path / "v.db") as conn:
        conn.execute("update alembic_version set version_num='0099'")
    with pytest.raises(StoreError, match="newer than this InferScope understands"):
        RunStore(url)


def test_every_schema_version_has_one_revision_in_a_line():
    """A new column is one revision file: revisions 0001..NNNN, each revising the one before."""
    from core.store import migrations

    assert migrations.revisions() == [migrations.revision_of(v) for v in range(1, SCHEMA_VERSION + 1)]
    assert migrations.head_revision() == migrations.revision_of(SCHEMA_VERSION)


def test_a_new_store_is_stamped_at_the_head(tmp_path):
    from core.store import migrations

    store = RunStore(f"sqlite:///{tmp_path / 'new.db'}")
    with store.engine.connect() as conn:
        assert migrations.current_revision(conn) == migrations.head_revision()


def test_a_dead_process_run_goes_back_to_the_queue_once_and_reads_never_write(store):
    run_id = store.create_run(RunSpec(**FIELDS))
    for attempt in (1, 2):
        store.start("run", run_id)
        store.progress("run", run_id, "time", 0.5)
        with store.engine.begin() as conn:  # the command that ran it died
            conn.execute(text("update runs set worker_pid = 999999999 where id = :id"), {"id": run_id})
        assert store.lost_work(60) and store.get(run_id).status == "running"  # reading changes nothing
        lines = store.requeue_lost_jobs(60)
        run = store.get(run_id)
        if attempt == 1:
            assert lines == [f"run {run_id}: queued again (the process that ran it (pid 999999999 on "
                             f"{store.identity.host}) was lost)"]
            assert run.status == "queued" and run.requeues == 1 and "during stage 'time'" in run.notes[-1]
    assert run.status == "interrupted" and "queued again once already; run it again" in run.error
    assert store.requeue_lost_jobs(60) == [] and not store.lost_work(60)


def test_read_only_database_gives_a_clear_error(tmp_path):
    path = tmp_path / "ro.db"
    RunStore(f"sqlite:///{path}").create_run(RunSpec(**FIELDS))
    store = RunStore(f"sqlite:///{path}?mode=ro&uri=true".replace("sqlite:///", "sqlite:///file:"))
    assert len(store.list_runs()) == 1
    with pytest.raises(StoreError, match="read-only"):
        store.create_run(RunSpec(**FIELDS))


def test_missing_run(store):
    with pytest.raises(InferScopeError, match="no run with id 42"):
        store.get(42)


def _downgrade(path, version: int) -> None:
    """Turn a current database back into what schema `version` looked like."""
    with sqlite3.connect(path) as conn:
        if version < 13:
            for column in added_in(13):
                conn.execute(f"ALTER TABLE runs DROP COLUMN {column}")
        if version < 12:
            for column in added_in(12):
                conn.execute(f"ALTER TABLE runs DROP COLUMN {column}")
        if version < 11:
            for table, columns in (("curves", ("started_at", "stage", "cancel_requested", "notes")),
                                   ("explorations", ("stage", "worker_role")), ("comparisons", ("notes",)),
                                   ("diagnoses", ("notes",))):
                for column in columns:
                    conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        if version < 10:
            conn.execute("ALTER TABLE comparisons DROP COLUMN contention")
        if version < 9:
            for table in ("runs", "curves", "explorations", "comparisons", "diagnoses"):
                conn.execute(f"DROP INDEX ix_{table}_target")
                for column in ("target", "worker_id", "requeues"):
                    conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
            conn.execute("ALTER TABLE runs DROP COLUMN model_sha256")
            for table in ("targets", "workers", "uploads"):
                conn.execute(f"DROP TABLE {table}")
        if version < 8:
            conn.execute("ALTER TABLE explorations DROP COLUMN reused_run_ids")
            conn.execute("ALTER TABLE runs DROP COLUMN parent_run_id")
            conn.execute("ALTER TABLE runs DROP COLUMN advice")
            conn.execute("ALTER TABLE latency_samples DROP COLUMN predictions")
            conn.execute("DROP TABLE diagnoses")
        if version < 7:
            conn.execute("DROP TABLE comparisons")
        if version < 6:
            for column in ("noisy", *added_in(6)):
                conn.execute(f"ALTER TABLE runs DROP COLUMN {column}")
        if version < 5:
            conn.execute("ALTER TABLE runs DROP COLUMN worker_role")
            conn.execute("ALTER TABLE curves DROP COLUMN worker_role")
        if version < 4:
            conn.execute("DROP TABLE explorations")
            conn.execute("DROP INDEX ix_runs_exploration_id")
            conn.execute("ALTER TABLE runs DROP COLUMN exploration_id")
        if version < 3:
            conn.execute("DROP TABLE curve_points")
            conn.execute("DROP TABLE curves")
            for column in ("scenario_config", *V3_METRICS):
                conn.execute(f"ALTER TABLE runs DROP COLUMN {column}")
        if version < 2:
            conn.execute("ALTER TABLE runs DROP COLUMN tags")
            conn.execute("ALTER TABLE runs DROP COLUMN cancel_requested")
        if version >= 11:  # schema 11 dropped schema_info: Alembic's revision alone says the version
            conn.execute(f"UPDATE alembic_version SET version_num = '{version:04d}'")
            return
        conn.execute("CREATE TABLE schema_info (key VARCHAR(64) PRIMARY KEY, value VARCHAR(256) NOT NULL)")
        conn.execute(f"INSERT INTO schema_info VALUES ('schema_version', '{version}')")
        conn.execute("DROP TABLE alembic_version")  # stores from before Alembic have only schema_info


@pytest.mark.parametrize("version", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
def test_an_old_database_is_upgraded_in_place(tmp_path, version):
    path = tmp_path / f"v{version}.db"
    store = RunStore(f"sqlite:///{path}")
    run_id = store.create_run(RunSpec(**FIELDS))
    store.engine.dispose()
    _downgrade(path, version)
    upgraded = RunStore(f"sqlite:///{path}")
    assert upgraded.schema_version() == SCHEMA_VERSION
    run = upgraded.get(run_id)
    assert run.tags == [] and run.model == "lenet5" and run.scenario == "single-stream" and run.scenario_config == {}
    assert run.metrics["cache_hit_pct"] is None
    upgraded.set_tags(run_id, ["old", "kept"])
    assert upgraded.get(run_id).tags == ["kept", "old"]
    assert upgraded.curves(run_id) == []
    assert run.exploration_id is None and upgraded.explorations() == []
    assert_matches_the_model(upgraded)


def assert_matches_the_model(store):
    """The upgraded tables are what the current model would create (Alembic's own comparison)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from core.store.schema import Base

    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert differences == []


def test_a_store_stamped_at_an_older_revision_is_upgraded(tmp_path):
    from core.store import migrations

    path = tmp_path / "stamped.db"
    store = RunStore(f"sqlite:///{path}")
    run_id = store.create_run(RunSpec(**FIELDS))
    store.engine.dispose()
    _downgrade(path, 4)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('0004')")
    upgraded = RunStore(f"sqlite:///{path}")
    assert upgraded.schema_version() == SCHEMA_VERSION and upgraded.get(run_id).model == "lenet5"
    with upgraded.engine.connect() as conn:
        assert migrations.current_revision(conn) == migrations.head_revision()
    assert_matches_the_model(upgraded)


def test_curves_store_points_in_rate_order_and_go_with_their_run(store):
    from core.store import CurvePoint

    run_id = store.create_run(RunSpec(**FIELDS))
    with pytest.raises(InferScopeError, match="is queued; a curve sweeps a finished"):
        store.create_curve(run_id, {})
    store.start("run", run_id)
    store.finish(run_id, metrics={"latency_p50_ms": 1.0}, samples_ms=[1.0], notes=[], environment={},
                 fingerprint="x", engine="torch-eager")
    curve_id = store.create_curve(run_id, {"latency_bound_ms": 5.0})
    assert store.claim("curve") == curve_id and store.claim("curve") is None
    for rate in (40.0, 10.0):
        store.add_curve_point(curve_id, CurvePoint(rate, rate * 0.9, 1, 2, 3, 4, 0.0, 10, 0), 0.5)
    store.end("curve", curve_id, "done", saturation_rps=36.0)
    curve = store.curve(curve_id)
    assert curve.status == "done" and [p.target_rate_rps for p in curve.points] == [10.0, 40.0]
    assert curve.config == {"latency_bound_ms": 5.0} and curve.saturation_rps == 36.0
    with pytest.raises(InferScopeError, match="is done and cannot become failed"):
        store.end("curve", curve_id, "failed")
    store.delete(run_id)
    assert store.curves() == []


def test_claim_is_exclusive_and_in_order(store):
    ids = [store.create_run(RunSpec(**FIELDS)) for _ in range(3)]
    assert [store.claim("run") for _ in range(4)] == [*ids, None]
    assert {r.status for r in store.list_runs()} == {"running"}


def test_ids_of_deleted_runs_are_never_reused(store):
    first = store.create_run(RunSpec(**FIELDS))
    second = store.create_run(RunSpec(**FIELDS))
    store.delete(second)
    assert store.create_run(RunSpec(**FIELDS)) == second + 1 and store.get(first).id == first


def test_explorations_claim_resume_cancel_and_requeue_after_a_dead_worker(store):
    first = store.create_exploration({"model": "lenet5"})
    second = store.create_exploration({"model": "resnet8"})
    assert store.claim("exploration") == first
    run_id = store.create_run(RunSpec(**FIELDS), claim=True, exploration_id=first)
    assert store.get(run_id).status == "running" and store.claim("run") is None  # claimed on insert
    assert store.list_runs(exploration_id=first)[0].id == run_id and store.list_runs(exploration_id=second) == []
    assert store.update_exploration(first, progress=0.5, spent_s=3.0, trials=1) is False
    assert store.cancel("exploration", first) == "running"
    assert store.update_exploration(first, progress=0.5) is True
    assert store.progress("run", run_id, "timing", 0.5) is True  # its running trial is asked to stop too
    store.end("exploration", first, "cancelled", "stopped")
    store.resume("exploration", first)  # a cancelled exploration continues
    record = store.exploration(first)
    assert record.status == "running" and record.error is None and record.spent_s == 3.0 and record.trials == 1
    with pytest.raises(InferScopeError, match=f"exploration {first} is running; another process works on it"):
        store.resume("exploration", first)
    with store.engine.begin() as conn:  # its process dies
        conn.execute(text("UPDATE explorations SET worker_pid = 999999999 WHERE id = :id"), {"id": first})
    store.requeue_lost_jobs(60)
    record = store.exploration(first)
    assert record.status == "queued" and "queued again" in record.notes[-1]
    assert store.cancel("exploration", second) == "cancelled"
    third = store.create_exploration({"model": "lenet5"})
    store.start("exploration", third)
    store.end("exploration", third, "done")
    with pytest.raises(InferScopeError, match=f"exploration {third} is done: nothing is left to continue"):
        store.resume("exploration", third)
    with pytest.raises(InferScopeError, match="no exploration with id 7"):
        store.exploration(7)


@pytest.mark.parametrize("backend", ["sqlite"] + (["postgres"] if os.environ.get("INFERSCOPE_TEST_POSTGRES_URL") else []))
def test_a_stage_with_its_detail_is_stored_whole(backend, tmp_path):
    """PostgreSQL enforces VARCHAR lengths (SQLite does not): training's stage detail must fit."""
    from tests.helpers import empty_store_url

    store = RunStore(empty_store_url(backend, tmp_path))
    run_id = store.create_run(RunSpec(**FIELDS))
    store.start("run", run_id)
    stage = "train · epoch 12 of 20 · 1 h 05 min left"
    store.progress("run", run_id, stage, 0.55)
    assert store.get(run_id).stage == stage


def test_processes_that_open_a_fresh_store_together_all_get_it(tmp_path):
    """A dashboard and a worker started together on a new data directory: one creates the store, the others wait
    for it (before the schema lock, the second found no tables too and failed creating them)."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    code = f"from core.store import RunStore; RunStore({url!r}).list_runs()"
    processes = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE, text=True)
                 for _ in range(6)]
    errors = [p.communicate(timeout=120)[1] for p in processes]
    assert all(p.returncode == 0 for p in processes), errors
    assert RunStore(url).schema_version() == SCHEMA_VERSION
