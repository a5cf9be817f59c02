"""The search loop against a fake executor: fast, deterministic metrics derived from each recipe."""
import pytest

from core.errors import InferScopeError, RunCancelled
from core.explore import analysis, budget, search, trials
from core.explore.settings import parse_settings
from core.explore.space import runnable, space_from_text
from core.recipe import parse_step
from core.store import RunSpec, RunStore
from tests.helpers import brute_force_front

SPACE = """
techniques:
  prune:
    - none
    - structured_prune: {ratio: [0.2, 0.4, 0.6], recovery: none}
  export: [none, onnx_export]
  quantize: [none, torch_dynamic_int8, ort_dynamic_int8, ort_static_int8,
             "ort_static_int8:calibration_method=Percentile"]
runtime:
  threads: [1, 2, null]
"""
SPEED = {"onnx_export": 0.5, "ort_static_int8": 0.25, "ort_dynamic_int8": 0.8, "torch_dynamic_int8": 0.9}
LOSS = {"ort_static_int8": 0.4, "ort_dynamic_int8": 0.1, "torch_dynamic_int8": 0.05}


def fake_metrics(recipe, threads):
    latency, top1 = 10.0, 92.0
    for step in recipe:
        name, config = step["technique"], step["config"]
        latency *= SPEED.get(name, 1.0)
        top1 -= LOSS.get(name, 0.0)
        if name == "structured_prune":
            latency *= 1 - config["ratio"]
            top1 -= 6 * config["ratio"] ** 2
        if config.get("calibration_method") == "Percentile":
            top1 += 0.3
    latency *= {1: 1.0, 2: 0.7, None: 0.65}[threads]
    return {"latency_p50_ms": latency, "top1": top1, "size_mb": 0.3}


@pytest.fixture
def store(tmp_path):
    return RunStore(f"sqlite:///{tmp_path / 'explore.db'}")


def fake_plan(trial):
    return RunSpec(model="fake", model_source="local", model_options={}, dataset="fashion-mnist", dataset_location=None,
                   subset_size=100, subset_seed=0, subset_split="test", calibration_split=None,
                   recipe=[parse_step(spec).to_dict() for spec in trial.techniques],
                   runtime={"threads": trial.threads, "batch": trial.batch}, scenario="single-stream",
                   scenario_config={})


def fake_execute(store, calls=None, interrupt_at=None):
    def execute(run_id):
        if calls is not None:
            calls.append(run_id)
            if interrupt_at is not None and len(calls) == interrupt_at:
                store.end("run", run_id, "cancelled", "interrupted")
                raise KeyboardInterrupt
        run = store.get(run_id)
        store.finish(run_id, metrics=fake_metrics(run.recipe, run.runtime["threads"]), samples_ms=[1.0], notes=[],
                     environment={}, fingerprint="fake", engine="fake")
        return store.get(run_id)
    return execute


def new_exploration(store, **options):
    config = {**options, "space": space_from_text(SPACE).to_dict(), "start": "torch",
              "expected_runs": options.get("budget_runs")}
    exploration_id = store.create_exploration(config)
    store.resume("exploration", exploration_id)
    return exploration_id


def explore(store, exploration_id, **kwargs):
    record = store.exploration(exploration_id)
    kwargs.setdefault("execute_run", fake_execute(store))
    return search.Exploration(store, record, None, kwargs.pop("plan", fake_plan), **kwargs).run()


def keys(store, exploration_id):
    return [trials.run_key(r) for r in store.list_runs(exploration_id=exploration_id) if r.status == "done"]


@pytest.mark.parametrize("strategy", ["nsga2", "tpe"])
def test_sampled_search_respects_budget_baselines_constraints_and_front(store, strategy):
    exploration_id = new_exploration(store, budget_runs=14, strategy=strategy, max_drop=1.0, max_latency_ms=3.0)
    reason = explore(store, exploration_id)
    runs = store.list_runs(exploration_id=exploration_id)
    assert reason == "the budget is spent" and len(runs) == 14 and all(r.status == "done" for r in runs)
    assert len(set(keys(store, exploration_id))) == 14  # never the same configuration twice
    assert [r.recipe for r in runs[:3]] == [[], [], []]  # the FP32 baselines (one per thread setting) first
    constraints = parse_settings({"budget_runs": 14, "max_drop": 1.0, "max_latency_ms": 3.0}).constraints()
    picks = analysis.recommend(runs, constraints)
    assert sorted(r.id for r in picks.front) == brute_force_front(runs, constraints)
    assert picks.fastest is not None
    assert picks.fastest.run.metrics["latency_p50_ms"] <= 3.0 and picks.fastest.run.metrics["top1"] >= 91.0
    assert "faster than" in picks.fastest.reason
    history = analysis.hypervolume_history(runs, constraints)
    shares = [p.share for p in history]
    assert len(history) == 14 and 0 < shares[-1] <= 1
    assert all(later >= earlier - 1e-12 for earlier, later in zip(shares, shares[1:]))  # never falls (float sums)


def test_exhaustive_measures_every_runnable_configuration_once(store):
    space = space_from_text(SPACE)
    total = len(runnable(space, "torch").runnable)
    exploration_id = new_exploration(store, budget_runs=total + 5, strategy="exhaustive", max_drop=1.0)
    assert explore(store, exploration_id).startswith("the space is exhausted")
    assert len(keys(store, exploration_id)) == total == len(set(keys(store, exploration_id)))
    assert store.exploration(exploration_id).trials == total


def test_auto_picks_exhaustive_only_when_the_space_fits():
    record = type("R", (), {})
    for runs_allowed, expected in ((10, "nsga2"), (10_000, "exhaustive")):
        record.config = {"budget_runs": runs_allowed, "space": space_from_text(SPACE).to_dict(), "start": "torch",
                         "expected_runs": runs_allowed}
        record.spent_s, record.notes, record.id = 0.0, [], 1
        assert search.Exploration(None, record, None, fake_plan).strategy() == expected


def test_an_interrupted_exploration_resumes_without_repeating_a_configuration(store):
    exploration_id = new_exploration(store, budget_runs=12, strategy="nsga2")
    calls = []
    with pytest.raises(KeyboardInterrupt):
        explore(store, exploration_id, execute_run=fake_execute(store, calls, interrupt_at=6))
    store.end("exploration", exploration_id, "cancelled", "interrupted")
    before = keys(store, exploration_id)
    assert len(before) == 5
    store.resume("exploration", exploration_id)
    assert explore(store, exploration_id) == "the budget is spent"
    after = keys(store, exploration_id)
    assert len(after) == 12 == len(set(after)) and after[:5] == before
    assert store.exploration(exploration_id).trials == 12


def test_a_cancel_stops_between_trials(store):
    exploration_id = new_exploration(store, budget_runs=20, strategy="exhaustive")
    inner = fake_execute(store)

    def execute_then_cancel(run_id):
        run = inner(run_id)
        if len(keys(store, exploration_id)) == 3:
            store.cancel("exploration", exploration_id)
        return run

    with pytest.raises(RunCancelled):
        explore(store, exploration_id, execute_run=execute_then_cancel)
    assert len(keys(store, exploration_id)) == 3


def test_refused_configurations_cost_no_budget(store):
    exploration_id = new_exploration(store, budget_runs=6, strategy="exhaustive")
    refused = []

    def plan(trial):
        if "ort_dynamic_int8" in trial.techniques:
            refused.append(trial)
            raise InferScopeError("no such kernel here")
        return fake_plan(trial)

    trials = []
    explore(store, exploration_id, plan=plan, on_trial=trials.append)
    assert len(keys(store, exploration_id)) == 6
    assert [t.note for t in trials if t.run is None] == ["refused: no such kernel here"] * len(refused)


def test_minutes_budget_counts_time_across_sessions(store, monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(budget, "_clock", lambda: clock[0])
    calls = []
    inner = fake_execute(store, calls, interrupt_at=4)

    def slow_execute(run_id):  # every trial takes 30 s; the fourth is interrupted
        clock[0] += 30.0
        return inner(run_id)

    exploration_id = new_exploration(store, budget_minutes=4.0, strategy="exhaustive")
    with pytest.raises(KeyboardInterrupt):
        explore(store, exploration_id, execute_run=slow_execute)
    store.end("exploration", exploration_id, "cancelled", "interrupted")
    assert store.exploration(exploration_id).spent_s == 120.0 and len(keys(store, exploration_id)) == 3
    store.resume("exploration", exploration_id)
    assert explore(store, exploration_id, execute_run=slow_execute) == "the budget is spent"
    record = store.exploration(exploration_id)
    assert record.spent_s == 240.0 and len(keys(store, exploration_id)) == 7 == record.trials


def test_execute_exploration_stores_the_end_state(store):
    exploration_id = new_exploration(store, budget_runs=3, strategy="exhaustive")
    def bad_plan(trial):
        raise ValueError("a bug")
    record = search.execute_exploration(store, exploration_id, None, bad_plan)
    assert record.status == "failed" and "ValueError: a bug" in record.error


def stored_baseline(store, threads, *, noisy=False, fingerprint=None):
    """A done FP32 run measured before any exploration, as `fake_plan` would plan it."""
    from core.explore.space import Configuration

    run_id = store.create_run(fake_plan(Configuration((), threads, 1)))
    store.start("run", run_id)
    store.finish(run_id, metrics=fake_metrics([], threads), samples_ms=[1.0], notes=[], environment={},
                 fingerprint=fingerprint or trials.current_fingerprint({}), engine="fake", extra={"noisy": noisy})
    return run_id


def test_a_stored_baseline_of_this_machine_is_reused_without_spending_the_budget(store):
    reused = stored_baseline(store, 1)
    stored_baseline(store, 2, noisy=True)                   # timed on a busy machine: measured again
    stored_baseline(store, None, fingerprint="elsewhere")   # another machine: measured again
    exploration_id = new_exploration(store, budget_runs=6, strategy="nsga2", max_drop=1.0)
    trials = []
    explore(store, exploration_id, on_trial=trials.append)
    runs = store.list_runs(exploration_id=exploration_id)
    own = [r for r in runs if r.exploration_id == exploration_id]
    assert store.exploration(exploration_id).reused_run_ids == [reused] and reused in [r.id for r in runs]
    assert len(own) == 6 == store.exploration(exploration_id).trials  # the reused baseline cost nothing
    assert sorted((r.runtime["threads"] or 0) for r in own if not r.recipe) == [0, 2]  # only the other two
    assert [t.run.id for t in trials if t.reused] == [reused]
    assert any(t.note.startswith(f"reused: run {reused} measured this baseline before") for t in trials)


def test_the_seed_configurations_go_right_after_the_baselines(store):
    exploration_id = new_exploration(store, budget_runs=6, strategy="nsga2", max_drop=1.0)
    explore(store, exploration_id)
    runs = store.list_runs(exploration_id=exploration_id)
    assert [[s["technique"] for s in r.recipe] for r in runs[3:5]] == [["onnx_export"],
                                                                      ["onnx_export", "ort_static_int8"]]
    assert runs[4].recipe[1]["config"]["per_channel"] is True and runs[3].runtime["threads"] is None


def test_a_budget_too_small_to_learn_says_so_before_launch():
    from core.explore.seeding import BudgetAdvice

    small = BudgetAdvice(budget_runs=4, baselines=2, reused=0, seeds=2)
    assert small.too_small and small.words().startswith("4 runs: 2 baselines + 2 trials; 8 recommended")
    reused = BudgetAdvice(budget_runs=8, baselines=1, reused=1, seeds=2)
    assert not reused.too_small and reused.words() == "8 runs: 1 baseline + 7 trials (1 more baseline reused from the store)"
    every = BudgetAdvice(budget_runs=4, baselines=0, reused=2, seeds=2)
    assert every.words().startswith("4 runs: 4 trials (2 baselines reused from the store); 6 recommended")
