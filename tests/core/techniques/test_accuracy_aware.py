"""Accuracy-aware INT8: nodes move back to float, re-ranked, until the drop is within max_drop."""
import pytest

from core.planning import RunRequest, StepSpec
from tests.conftest import FAST_TIMING
from tests.helpers import HEAD, sensitive_model


def runs(api, path, *specs):
    request = dict(model=str(path), subset=300, timing=dict(FAST_TIMING))
    return [api.execute(api.submit(RunRequest(**request, techniques=tuple(StepSpec(*s) for s in steps))))
            for steps in specs]


def test_it_stops_at_the_target_with_the_sensitive_node_in_float(api, tmp_path):
    path = sensitive_model(api.settings, tmp_path / "sensitive.onnx")
    base, plain, aware = runs(api, path, (), [("ort_static_int8", {})],
                              [("ort_static_int8", {"max_drop": 2.0, "validation_size": 200})])
    assert base.metrics["top1"] - plain.metrics["top1"] > 10  # everything in INT8: the sensitive head breaks it
    assert base.metrics["top1"] - aware.metrics["top1"] < 3   # decided on other images, so not exactly 2
    (note,) = [n for n in aware.notes if "accuracy-aware" in n]  # 2 points is 4 images of 200: no resolution note
    assert "on 200 validation images" in note and f"+ {HEAD} in float" in note
    assert note.endswith("within 2 points with 1 node(s) in float")
    assert "all quantized:" in note and " ms)" in note  # each step with its accuracy and latency


def test_an_activation_outlier_needs_several_nodes_and_the_loop_finds_them(api, tmp_path):
    """No one node in float recovers an outlier activation range (every quantized consumer re-quantizes the
    tensor); re-ranking after each move takes the loop to the layers that carry it."""
    path = sensitive_model(api.settings, tmp_path / "activation.onnx", outlier="activation")
    base, plain, aware = runs(api, path, (), [("ort_static_int8", {})],
                              [("ort_static_int8", {"max_drop": 2.0, "validation_size": 200})])
    assert base.metrics["top1"] - plain.metrics["top1"] > 10
    assert base.metrics["top1"] - aware.metrics["top1"] < 3
    (note,) = [n for n in aware.notes if "accuracy-aware" in n]
    moved = int(note.rsplit("with ", 1)[1].split(" node")[0])
    assert moved >= 2 and note.count("in float:") == moved


def test_an_unreachable_target_is_said(api, tmp_path, monkeypatch):
    import core.techniques.accuracy_aware as aware_module

    monkeypatch.setattr(aware_module, "node_noise", lambda *args: [])  # nothing left to move to float
    path = sensitive_model(api.settings, tmp_path / "sensitive.onnx")
    (aware,) = runs(api, path, [("ort_static_int8", {"max_drop": 0.2})])
    assert aware.status == "done"
    note, resolution = [n for n in aware.notes if "accuracy-aware" in n]
    assert "the target of 0.2 points was not reachable" in note
    assert "max_drop 0.2 is less than one validation image (0.33 points): raise validation_size to at least 501" \
        in resolution


def test_a_validation_set_larger_than_what_is_left_is_refused_before_any_work(api, tmp_path):
    from core.errors import DataError

    path = sensitive_model(api.settings, tmp_path / "sensitive.onnx")
    with pytest.raises(DataError, match=r"validation size 100000 is larger than the \d+ images"):
        api.submit(RunRequest(model=str(path), subset=300, techniques=(
            StepSpec("ort_static_int8", {"max_drop": 1.0, "validation_size": 100000}),)))
