"""Sensitivity of an INT8 run's nodes on a real model with one node made deliberately sensitive."""
import json

import onnx
import pytest
import torch

from core.errors import RecipeError
from core.models import build_model, parse_model
from core.models.onnx_file import METADATA_INPUT_SPEC, METADATA_LABEL_SPACE
from core.planning import RunRequest, StepSpec
from tests.conftest import FAST_TIMING
from tests.seed import seed_runs

OUTLIER = 1000.0
HEAD = "/11/Gemm"  # the classifier layer, as the TorchScript exporter names it


def sensitive_model(settings, path):
    """The trained tiny lenet5 with its classifier layer made deliberately sensitive: one input feature is
    always 0 (the unit before it never fires), and the classifier's weights on it are an outlier (1000).
    The float model computes exactly what it did; per-channel INT8 weights, whose one scale per output
    row must now span 1000, round every other weight of the layer to nothing."""
    model = build_model(parse_model("lenet5:epochs=1,train_limit=4096"), settings)
    module = model.artifact.module
    hidden, head = module[9], module[11]
    with torch.no_grad():
        hidden.weight[0] = 0.0
        hidden.bias[0] = -1.0           # ReLU(-1) = 0: feature 0 of the head's input is always 0
        head.weight[:, 0] = OUTLIER     # so these weights change nothing in float
    torch.onnx.export(module.eval(), (torch.zeros(1, 1, 28, 28),), str(path), dynamo=False, input_names=["x"],
                      dynamic_axes={"x": {0: "n"}})
    proto = onnx.load(str(path))
    for key, value in ((METADATA_INPUT_SPEC, json.dumps(model.input_spec.to_dict())),
                       (METADATA_LABEL_SPACE, "fashion-mnist")):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))
    return path


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
