import json

import pytest

from tests.seed import seed_runs


def seed_diagnosis(store, run_id, recovered=(12.0, 0.4, -0.1)):
    """A done diagnosis of `run_id` (fake figures): tried nodes first, most recovered first, then one untried."""
    nodes = [{"node": f"node_{k}", "op_type": "Gemm" if k == 0 else "Conv", "sqnr_db": 10.0 + 5 * k,
              "noise_added_pct": 30.0 / (k + 1), "recovered": r} for k, r in enumerate(recovered)]
    nodes.append({"node": "node_untried", "op_type": "Conv", "sqnr_db": 40.0, "noise_added_pct": 0.01,
                  "recovered": None})
    diagnosis_id = store.create_diagnosis(run_id, {"candidates": len(recovered), "images": 64}, "sensitivity")
    store.start("diagnosis", diagnosis_id)
    store.end("diagnosis", diagnosis_id, "done", nodes=nodes, summary={"metric": "top1", "int8": 78.0, "float": 91.0,
                                                 "quantized_nodes": 4, "images_compared": 64})
    return diagnosis_id


def int8_run(api):
    """The newest seeded INT8 run (the page preselects the newest)."""
    ids = seed_runs(api.store, 8, models=("resnet8",))
    return max(i for i in ids if api.run(i).recipe_summary == "onnx_export → ort_static_int8")


def test_without_an_int8_run_it_says_what_to_queue(app_page, api):
    seed_runs(api.store, 1, models=("resnet8",))
    at = app_page("diagnose")
    assert "ONNX Runtime static INT8 run" in at.info[0].value and not at.exception


def test_a_profile_shows_time_by_operator_type_with_its_precision_and_the_doctor(app_page, api):
    run_id = int8_run(api)
    diagnosis_id = api.store.create_diagnosis(run_id, {"calls": 100}, "profile")
    api.store.start("diagnosis", diagnosis_id)
    types = [{"op_type": "QLinearConv", "precision": "int8", "ms_per_call": 0.2, "share_pct": 20.0},
             {"op_type": "Conv", "precision": "float", "ms_per_call": 0.6, "share_pct": 60.0},
             {"op_type": "DequantizeLinear", "precision": "conversion", "ms_per_call": 0.2, "share_pct": 20.0}]
    api.store.end("diagnosis", diagnosis_id, "done", nodes=[{"node": "conv_1", "op_type": "Conv", "ms_per_call": 0.6,
                                               "share_pct": 60.0}],
                               summary={"engine": "onnx", "calls": 100, "batch": 1, "operators_ms_per_call": 1.0,
                                "wall_ms_per_call": 1.1, "quantized": True, "float_share_pct": 60.0,
                                "conversion_share_pct": 20.0, "int8_share_pct": 20.0, "layout_share_pct": 0.0,
                                "op_types": types})
    at = app_page("diagnose")
    at.selectbox(key="profile_choice").set_value(run_id).run()
    assert any("the operators take 1.000 ms of 1.100 ms per call (onnx, batch 1, 100 calls); 20% of it in INT8, "
               "60% in float" in s.value
               for s in at.success)
    warnings = " ".join(w.value for w in at.warning)
    assert "60% of the operator time is in operators still in float" in warnings and "left unfused" in warnings
    chart = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "by operator type" in c.proto.spec)
    assert chart["data"][0]["y"] == ["QLinearConv", "Conv", "DequantizeLinear"]
    assert chart["data"][0]["marker"]["color"] == ["#16a34a", "#2563eb", "#dc2626"]
    p50 = api.run(run_id).metrics["latency_p50_ms"]
    assert any(f"not with the run's latency (p50 {p50:.3f} ms, measured without the profiler)" in c.value
               for c in at.caption)


def test_a_diagnosis_is_queued_for_the_worker(app_page, api):
    run_id = int8_run(api)
    at = app_page("diagnose")
    assert at.selectbox(key="diagnose_choice").value == run_id
    at.number_input(key="diagnose.candidates").set_value(2).run()
    at.button(key="diagnose").click().run()
    (diagnosis,) = api.diagnoses(run_id)
    assert diagnosis.status == "queued" and diagnosis.config["candidates"] == 2
    assert at.button(key="diagnose").disabled and "under way" in at.button(key="diagnose").help


def test_a_done_diagnosis_shows_nodes_and_queues_the_run_with_them_in_float(app_page, api):
    run_id = int8_run(api)
    seed_diagnosis(api.store, run_id)
    at = app_page("diagnose")
    assert "top-1 78.00% in INT8 against 91.00% in FP32" in at.success[0].value
    figure = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert figure["data"][0]["y"] == ["node_0", "node_1", "node_2"] and figure["data"][0]["x"] == [12.0, 0.4, -0.1]
    assert "recovered with this node alone in float" in figure["layout"]["xaxis"]["title"]["text"]
    # the seeded run's top-1 interval is -1.7/+1.5 points: 0.4 points recovered is inside it, said and shaded grey
    assert figure["data"][0]["marker"]["color"] == ["#16a34a", "#9ca3af", "#9ca3af"]
    assert (figure["layout"]["shapes"][0]["x0"], figure["layout"]["shapes"][0]["x1"]) == pytest.approx((-1.6, 1.6))
    assert any("±1.6 points, half the run's 95% interval of top-1 (one image of 1,000 is 0.10 points)" in c.value
               for c in at.caption)
    assert "compared on 64 images from the calibration split" in at.success[0].value
    table = at.dataframe[0].value
    assert list(table["node"]) == ["node_0", "node_1", "node_2", "node_untried"]
    assert at.dataframe[0].proto.placeholder == "not tried"
    keep = at.number_input(key="keep_count")
    assert keep.value == 2 and keep.max == 2  # only the nodes that recovered accuracy
    keep.set_value(1).run()
    at.button(key="keep_float").click().run()
    child = api.queue()[-1]
    assert not at.exception and at.success[-1].value == f"Queued run #{child.id} (from run {run_id})."
    assert child.parent_run_id == run_id
    assert next(s for s in child.recipe if s["technique"] == "ort_static_int8")["config"]["keep_float"] == ["node_0"]


def test_a_language_models_profile_is_read_per_token(app_page, api, run_request, tiny_causal_lm):
    run = api.execute(api.submit(run_request("lm_onnx_export", "matmul_nbits", model=tiny_causal_lm,
                                             dataset="bbc-news-articles", subset=10)))
    assert run.status == "done", run.error
    profile = api.diagnose(run.id, {"calls": 10}, kind="profile")
    at = app_page("diagnose")
    at.selectbox(key="profile_choice").set_value(run.id).run()
    assert not at.exception
    assert any(f"Profile {profile.id}: the operators take" in s.value and "per token (lm-onnx, batch 1, 12 tokens)"
               in s.value and "in the weight-only matmuls" in s.value for s in at.success)
    itl = run.metrics["itl_p50_ms"]
    assert any(f"(inter-token p50 {itl:.3f} ms, measured without the profiler)" in c.value for c in at.caption)
    chart = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "by operator type" in c.proto.spec)
    assert chart["layout"]["xaxis"]["title"]["text"] == "time per token (ms), by operator type"
    kinds = dict(zip(chart["data"][0]["y"], chart["data"][0]["marker"]["color"], strict=True))
    assert kinds["MatMulNBits"] == "#7c3aed"
