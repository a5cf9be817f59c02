"""Explorations of the tiny model with real runs: the api, the CLI, and a SIGKILL mid-way."""
import json
import signal
import subprocess
import sys
import time

import pytest

from core.api import ExploreRequest
from core.errors import InferScopeError
from core.explore import analysis, trials
from core.explore.settings import parse_settings
from core.explore.space import space_from_text
from core.store import RunStore
from tests.conftest import FAST_TIMING, TINY_MODEL, subprocess_env
from tests.helpers import brute_force_front

SPACE = """
techniques:
  export: [none, onnx_export]
  quantize: [none, ort_dynamic_int8, "ort_static_int8:calibration_size=50"]
runtime:
  threads: [1, null]
"""


def test_api_exploration_runs_baselines_first_and_reports_the_front(api):
    request = ExploreRequest(model=TINY_MODEL, subset=100, space=space_from_text(SPACE), timing=dict(FAST_TIMING),
                             options={"budget_runs": 4, "max_drop": 5.0, "strategy": "exhaustive"})
    plan = api.plan_exploration(request)
    assert plan.space.size() == 12 and len(plan.validity.runnable) == 8 and plan.expected_runs == 4
    assert plan.strategy == "exhaustive"
    record = api.explore(request)
    runs = api.exploration_runs(record.id)
    assert record.status == "done" and record.trials == 4 and [r.status for r in runs] == ["done"] * 4
    assert [r.recipe for r in runs[:2]] == [[], []] and {r.runtime["threads"] for r in runs[:2]} == {1, None}
    constraints = parse_settings({"budget_runs": 4, "max_drop": 5.0}).constraints()
    picks = analysis.recommend(runs, constraints)
    ok = analysis.feasible(runs, constraints)
    assert picks.fastest.run in ok and picks.fastest.run.metrics["latency_p50_ms"] == \
        min(r.metrics["latency_p50_ms"] for r in ok)
    assert sorted(r.id for r in picks.front) == brute_force_front(runs, constraints)
    assert all(r.exploration_id == record.id for r in runs)


def test_a_second_exploration_reuses_the_first_ones_baselines(api):
    space = space_from_text("techniques:\n  export: [none, onnx_export]\nruntime:\n  threads: [null]\n")
    request = ExploreRequest(model=TINY_MODEL, subset=100, space=space, timing=dict(FAST_TIMING),
                             options={"budget_runs": 2, "max_drop": 5.0, "paired_check": False})
    assert api.plan_exploration(request).advice.baselines == 1
    first = api.explore(request)
    baseline = next(r for r in api.exploration_runs(first.id) if not r.recipe)
    plan = api.plan_exploration(request)  # the same model, data and runtime: its baseline is in the store now
    assert (plan.advice.baselines, plan.advice.reused) == (0, 1)
    second = api.explore(request)
    runs = api.exploration_runs(second.id)
    assert second.reused_run_ids == [baseline.id] and baseline in runs
    assert second.trials == 1 and [r.recipe_summary for r in runs if r.exploration_id == second.id] == ["onnx_export"]


def test_cli_exploration_killed_mid_way_resumes_without_duplicates(tmp_path, settings):
    space = tmp_path / "space.yaml"
    space.write_text(SPACE)
    command = [sys.executable, "-m", "core", "explore", "--model", TINY_MODEL, "--subset", "100", "--budget-runs",
               "5", "--space", str(space), "--strategy", "exhaustive", "--warmup", "1", "--min-repeats", "5",
               "--min-seconds", "0"]
    process = subprocess.Popen(command, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    store = RunStore(settings.db_url)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if sum(r.status == "done" for r in store.list_runs(exploration_id=1)) >= 2:
            break
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = [trials.run_key(r) for r in store.list_runs(exploration_id=1) if r.status == "done"]
    assert 2 <= len(done_before) < 5

    from core.api import InferScope

    api = InferScope()  # a restart reads what the dead process left, and writes nothing
    assert api.exploration(1).status == "running" and api.store.lost_work(60)
    result = subprocess.run([sys.executable, "-m", "core", "explore", "--resume", "1", "--json"], env=subprocess_env(),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    runs = api.exploration_runs(1)
    done = [trials.run_key(r) for r in runs if r.status == "done"]
    assert report["status"] == "done" and report["trials"] == 5 and len(done) == 5 == len(set(done))
    assert any(note.startswith("queued again at") for note in api.exploration(1).notes)  # resumed found it lost
    assert all(r.status != "running" for r in runs)
    assert done[:len(done_before)] == done_before
    assert report["fastest"]["run"] in report["front"] and "faster than" in report["fastest"]["reason"]
    constraints = parse_settings({"budget_runs": 5}).constraints()  # the CLI's default max drop: 1 point
    assert sorted(report["front"]) == brute_force_front(runs, constraints)
    listing = subprocess.run([sys.executable, "-m", "core", "explorations"], env=subprocess_env(),
                             capture_output=True, text=True, timeout=120)
    assert "done" in listing.stdout and "exhaustive" in listing.stdout


def test_the_worker_runs_a_queued_exploration(api, settings, monkeypatch):
    from core import jobs

    monkeypatch.setenv("INFERSCOPE_AUTOSTART_WORKER", "0")
    from core.api import InferScope

    api = InferScope()
    request = ExploreRequest(model=TINY_MODEL, subset=100, space=space_from_text(SPACE), timing=dict(FAST_TIMING),
                             options={"budget_runs": 2})
    exploration_id = api.submit_exploration(request)
    assert api.exploration(exploration_id).status == "queued" and api.resume_queue() is False  # autostart off
    assert jobs.run_worker(api.settings, api.store) == 1
    record = api.exploration(exploration_id)
    assert record.status == "done" and record.trials == 2 and record.strategy == "nsga2"
    assert [r.recipe for r in api.exploration_runs(exploration_id)] == [[], []]  # the two baselines


@pytest.mark.parametrize("options, message", [
    ({}, "exactly one budget"),
    ({"budget_runs": 3, "budget_minutes": 2}, "exactly one budget"),
    ({"budget_runs": 0}, "at least 1"),
    ({"budget_runs": 3, "strategy": "grid"}, "must be one of"),
    ({"budget_runs": 3, "max_drop": -1}, "at least 0"),
])
def test_bad_exploration_requests_are_refused(api, options, message):
    with pytest.raises(InferScopeError, match=message):
        api.plan_exploration(ExploreRequest(model=TINY_MODEL, subset=100, options=options))


def test_a_space_with_nothing_runnable_is_refused(api):
    space = space_from_text("techniques: {q: [ort_static_int8]}")
    with pytest.raises(InferScopeError, match="none of the space's 1 configurations can run"):
        api.plan_exploration(ExploreRequest(model=TINY_MODEL, subset=100, space=space, options={"budget_runs": 2}))
    with pytest.raises(InferScopeError, match="unknown model .no_such_model."):
        api.plan_exploration(ExploreRequest(model="no_such_model", options={"budget_runs": 2}))
