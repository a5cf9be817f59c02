"""Sensitivity of an INT8 run's nodes on a real model with one node made deliberately sensitive."""
import pytest

from core.errors import RecipeError
from core.planning import RunRequest, StepSpec
from tests.conftest import FAST_TIMING
from tests.helpers import HEAD, sensitive_model
from tests.seed import seed_runs


def test_only_a_done_static_int8_run_is_diagnosed(api):
    ids = seed_runs(api.store, 4, models=("resnet8",))
    fp32 = api.run(ids[0])
    with pytest.raises(RecipeError, match=r"has no ort_static_int8 step; .* e\.g\. onnx_export → ort_static_int8"):
        api.request_diagnosis(fp32.id)
    assert api.diagnoses() == []


def test_the_outlier_node_ranks_first_and_keeping_it_in_float_recovers_the_accuracy(api, tmp_path):
    path = sensitive_model(api.settings, tmp_path / "sensitive.onnx")
    request = dict(model=str(path), subset=300, timing=dict(FAST_TIMING))
    base = api.execute(api.submit(RunRequest(**request)))
    int8 = api.execute(api.submit(RunRequest(**request, techniques=(StepSpec("ort_static_int8", {}),))))
    assert base.status == int8.status == "done"
    assert base.metrics["top1"] - int8.metrics["top1"] > 10  # the outlier costs INT8 dearly

    diagnosis = api.diagnose(int8.id, {"candidates": 4})
    assert diagnosis.status == "done", diagnosis.error
    summary, nodes = diagnosis.summary, diagnosis.nodes
    # the rebuilt INT8 model is the run's own: the same accuracy on the same subset
    assert summary["metric"] == "top1" and summary["int8"] == pytest.approx(int8.metrics["top1"])
    assert summary["float"] == pytest.approx(base.metrics["top1"])
    first = nodes[0]
    assert first["node"] == HEAD and first["noise_added_pct"] > 90 and first["recovered"] > 10, nodes
    assert all(n["noise_added_pct"] < 1 for n in nodes[1:])
    assert all(n["recovered"] is None for n in nodes[4:]) and len([n for n in nodes if n["recovered"] is not None]) == 4

    child_id = api.queue_keep_float(diagnosis.id, 1)
    child = api.run(child_id)
    assert child.parent_run_id == int8.id and child.status == "queued"
    assert child.recipe[0]["config"]["keep_float"] == [first["node"]]
    child = api.execute(child_id)
    assert child.metrics["top1"] == pytest.approx(int8.metrics["top1"] + first["recovered"])  # as the diagnosis said
