"""Operator profiles of real runs: by type and node, with precision shares, summing to the wall time."""
import pytest

from core.errors import RecipeError


def test_an_int8_onnx_run_is_profiled_by_operator_with_its_precision(api, run_request):
    run = api.execute(api.submit(run_request("onnx_export", "ort_static_int8", batch=64)))
    profile = api.diagnose(run.id, {"calls": 40}, kind="profile")
    assert profile.status == "done", profile.error
    s = profile.summary
    assert s["engine"] == "onnx" and s["quantized"] and s["batch"] == 64
    precisions = {t["op_type"]: t["precision"] for t in s["op_types"]}
    assert precisions.get("QLinearConv") == "int8"
    assert s["int8_share_pct"] > 0 and sum(t["share_pct"] for t in s["op_types"]) == pytest.approx(100.0)
    # the operators account for the call, within 20% (the rest is the session's own per-call work)
    assert 0.8 * s["wall_ms_per_call"] <= s["operators_ms_per_call"] <= 1.05 * s["wall_ms_per_call"]
    assert profile.nodes and profile.nodes[0]["ms_per_call"] >= profile.nodes[-1]["ms_per_call"]


def test_an_int8_openvino_run_is_profiled_from_openvinos_counters(api, run_request):
    run = api.execute(api.submit(run_request("onnx_export", "nncf_int8:calibration_size=32", "openvino", batch=64)))
    assert run.status == "done", run.error
    profile = api.diagnose(run.id, {"calls": 40}, kind="profile")
    assert profile.status == "done", profile.error
    s = profile.summary
    assert s["engine"] == "openvino" and s["quantized"] and s["batch"] == 64
    precisions = {t["op_type"]: t["precision"] for t in s["op_types"]}
    assert precisions.get("Convolution") == "int8" and s["int8_share_pct"] > 0
    assert sum(t["share_pct"] for t in s["op_types"]) == pytest.approx(100.0)
    assert 0.5 * s["wall_ms_per_call"] <= s["operators_ms_per_call"] <= 1.05 * s["wall_ms_per_call"]


def test_the_profile_advice_names_the_engine_that_left_conversions_unfused():
    from core.doctor import profile_advice

    summary = {"quantized": True, "float_share_pct": 10.0, "conversion_share_pct": 30.0}
    (ort,) = profile_advice({**summary, "engine": "onnx"})
    (ov,) = profile_advice({**summary, "engine": "openvino"})
    assert "QuantizeLinear" in ort.figure and "onnxruntime" in ort.advice
    assert "FakeQuantize" in ov.figure and "OpenVINO" in ov.advice


def test_an_eager_torch_run_is_profiled_with_torch_profiler(api, run_request):
    run = api.execute(api.submit(run_request(batch=64)))
    profile = api.diagnose(run.id, {"calls": 20}, kind="profile")
    assert profile.status == "done", profile.error
    assert profile.summary["engine"] == "torch" and not profile.summary["quantized"]
    assert any(t["op_type"].startswith("aten::") for t in profile.summary["op_types"])


def test_a_compiled_run_is_refused_before_any_work(api):
    from sqlalchemy import text

    from tests.seed import seed_runs

    (run_id,) = seed_runs(api.store, 1, models=("resnet8",))
    with api.store.engine.begin() as conn:
        conn.execute(text("UPDATE runs SET engine = 'torch-compiled', recipe = :r WHERE id = :i"),
                     {"i": run_id, "r": '[{"technique": "torch_compile", "config": {}}]'})
    with pytest.raises(RecipeError, match="ran a compiled PyTorch model on torch-compiled, which has no profiler "
                                          "here; profiles are taken of torch-eager, onnxruntime and openvino runs"):
        api.request_diagnosis(run_id, kind="profile")
    assert api.diagnoses() == []
