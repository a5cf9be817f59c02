"""One rule for how every job ends (runs, curves and explorations share `run_to_end`)."""
import pytest

from core.errors import MeasurementError, RecipeError, RunCancelled
from core.lifecycle import run_to_end


def ended(work, finish=lambda result: None):
    """Run `work` through the rule; returns the (status, error) stored and what was raised."""
    stored, raised = [], None
    try:
        run_to_end(work, finish, lambda status, error: stored.append((status, error)), interrupted="press Continue")
    except BaseException as exc:  # noqa: BLE001 — the test inspects what the rule re-raised
        raised = exc
    return stored, raised


def fail(exc):
    def work():
        raise exc
    return work


def test_success_is_stored_by_finish_and_nothing_else():
    finished = []
    stored, raised = ended(lambda: 42, finished.append)
    assert finished == [42] and stored == [] and raised is None


@pytest.mark.parametrize("exc, status, error, reraised", [
    (RunCancelled("cancelled by the user during timing"), "cancelled", "cancelled by the user during timing", True),
    (KeyboardInterrupt(), "cancelled", "press Continue", True),
    (RecipeError("add onnx_export first"), "failed", "add onnx_export first", False),
    (ValueError("a bug"), "failed", "ValueError: a bug", False),
])
def test_each_way_of_ending_is_stored_once(exc, status, error, reraised):
    stored, raised = ended(fail(exc))
    assert stored == [(status, error)]
    assert (raised is exc) == reraised and (raised is None) == (not reraised)


def test_a_result_the_store_refuses_fails_the_job():
    def refuse(result):
        raise MeasurementError("latency samples contain NaN")
    stored, raised = ended(lambda: 1, refuse)
    assert stored == [("failed", "latency samples contain NaN")] and raised is None


def test_an_exploration_cancel_is_stored_and_reraised_like_a_run_cancel(tmp_path):
    from core.explore import search
    from core.store import RunStore
    from tests.core.explore.test_search import fake_plan, new_exploration

    store = RunStore(f"sqlite:///{tmp_path / 'x.db'}")
    exploration_id = new_exploration(store, budget_runs=3, strategy="exhaustive")
    store.cancel("exploration", exploration_id)
    with pytest.raises(RunCancelled):
        search.execute_exploration(store, exploration_id, None, fake_plan)
    assert store.exploration(exploration_id).status == "cancelled"
