"""Text generation as a task: runs of a language model planned, measured against FP32, stored with their
continuations, charted on their own front and diagnosed by the doctor; refused in words where they cannot apply."""
import re
from dataclasses import replace

import pytest

from core import doctor, views
from core.catalogue import scenarios, techniques
from core.continuation_rows import continuation_rows, left_out
from core.errors import DataError, RecipeError

GENERATION = {"dataset": "bbc-news-articles", "subset": 10}


def lm_request(run_request, model, *specs, **overrides):
    return run_request(*specs, model=model, **{**GENERATION, **overrides})


def test_a_language_model_run_is_measured_against_fp32_and_stored(api, run_request, tiny_causal_lm):
    base = api.execute(api.submit(lm_request(run_request, tiny_causal_lm)))
    int4 = api.execute(api.submit(lm_request(run_request, tiny_causal_lm, "lm_onnx_export", "matmul_nbits")))
    assert base.status == "done" and int4.status == "done", (base.error, int4.error)
    m = base.metrics
    assert m["greedy_agreement"] == 100.0 and m["kl_mean"] == pytest.approx(0.0, abs=1e-9)
    assert m["perplexity_ci_low"] <= m["perplexity"] <= m["perplexity_ci_high"]
    assert m["generated_tokens_per_s"] > 0 and m["itl_p50_ms"] > 0 and m["ttft_p50_ms"] > 0
    assert m["new_tokens"] == 4 and m["prompt_tokens"] == 8 and m["latency_count"] >= 5
    assert base.engine == "torch-eager" and int4.engine == "onnxruntime"
    assert int4.metrics["kl_mean"] > 0 and int4.metrics["size_mb"] != m["size_mb"]
    stored = int4.environment["continuations"]
    assert len(stored) == 2 and all(len(c["token_ids"]) == 4 for c in stored)
    assert int4.environment["decode_bound"]["machine_gbs"] > 0
    assert any("matmul_nbits: INT4 weights" in note for note in int4.notes)
    front = api.front("itl_p50_ms", "perplexity", [base, int4])
    assert front and {r.id for r in front} <= {base.id, int4.id}


def test_continuations_are_shown_against_fp32_with_the_first_difference(api, run_request, tiny_causal_lm):
    base = api.execute(api.submit(lm_request(run_request, tiny_causal_lm)))
    other = replace(base, id=base.id + 100, environment={**base.environment, "continuations": [
        {**c, "agreed": "", "differing": " x", "rest": " y", "first_difference": 0}
        for c in base.environment["continuations"]]})
    elsewhere = replace(base, id=base.id + 200, environment={"continuations": [{"prompt_ids": [1]}]})
    rows = continuation_rows([base, other, elsewhere])
    assert len(rows) == 2 and [p.run_id for p in rows[0].parts] == [base.id, other.id]
    assert rows[0].parts[0].first_difference is None and rows[0].parts[1].differing == " x"
    assert rows[0].fp32 == base.environment["continuations"][0]["reference_text"]
    assert [r.id for r in left_out([base, other, elsewhere])] == [elsewhere.id]


def test_the_offline_default_language_model_is_trained_and_measured(api, run_request):
    model = ("gpt2-bbc:layers=1,width=32,heads=2,vocab=300,context=64,block=32,epochs=1,train_limit=16,"
             "prompt_length=8,new_tokens=4,prompts=2,window=16")
    run = api.execute(api.submit(lm_request(run_request, model, "no_kv_cache")))
    assert run.status == "done", run.error
    assert any("GPT-2 trained here" in note and "16 BBC News articles" in note for note in run.notes)
    assert {f["rule"] for f in run.advice} >= {"kv_cache_off"}


@pytest.mark.parametrize(("change", "words"), [
    ({"techniques": ("onnx_export",)}, "onnx_export applies to a classifier and this model is a language model; its "
                                       "techniques are fp32, no_kv_cache"),
    ({"techniques": ("matmul_nbits",)}, "add lm_onnx_export before matmul_nbits"),
    ({"techniques": ("nncf_weight_compression",)}, "add lm_onnx_export then lm_openvino before"),
    ({"techniques": ("lm_onnx_export", "no_kv_cache")}, "the exported graph takes and gives the KV cache"),
    ({"scenario": "server"}, "text generation is measured single-stream or concurrent so far"),
    ({"techniques": ("lm_onnx_export", "lm_openvino"), "scenario": "concurrent",
      "scenario_options": {"clients": 3, "sessions": 2}},
     "an OpenVINO language model holds one generation's state per instance, so 3 clients cannot share 2; give each "
     "its own: sessions=3"),
    ({"batch": 4}, r"prompts \(2\) must be at least the batch \(4\)"),
])
def test_what_a_language_model_cannot_do_is_refused_before_anything_runs(api, run_request, tiny_causal_lm, change,
                                                                         words):
    request = lm_request(run_request, tiny_causal_lm, **{k: v for k, v in change.items() if k != "techniques"})
    request = replace(request, techniques=change.get("techniques", ()))
    with pytest.raises(RecipeError, match=words):
        api.plan(request)


def test_a_prompt_longer_than_the_offline_model_reads_is_refused_in_its_words(api, run_request):
    with pytest.raises(RecipeError, match=r"prompt tokens \(200\) plus new tokens \(64\) is 264, beyond the 256"):
        api.plan(lm_request(run_request, "gpt2-bbc:prompt_length=200"))


def test_datasets_and_models_of_other_tasks_are_refused(api, run_request, tiny_causal_lm):
    with pytest.raises(DataError, match="does text generation and dataset fashion-mnist is for image classification"):
        api.plan(lm_request(run_request, tiny_causal_lm, dataset="fashion-mnist"))
    with pytest.raises(DataError, match="does image classification and dataset bbc-news-articles is for text "
                                        "generation"):
        api.plan(run_request(**GENERATION))
    with pytest.raises(RecipeError, match="no_kv_cache applies to a language model and this model is a classifier"):
        api.plan(run_request("no_kv_cache"))


def test_analyses_without_a_form_for_language_models_yet_are_refused_in_words(api, run_request, tiny_causal_lm):
    run = api.execute(api.submit(lm_request(run_request, tiny_causal_lm)))
    other = api.execute(api.submit(lm_request(run_request, tiny_causal_lm, "no_kv_cache")))
    refusals = {"a latency-throughput curve": lambda: api.request_curve(run.id),
                "flips": lambda: api.flips(other.id, run.id)}
    for words, ask in refusals.items():
        with pytest.raises(RecipeError, match=f"{words}.* is not available for text generation runs yet"):
            ask()
    assert not api.diagnosable(run, "sensitivity") and api.curves(run.id) == []


def test_a_language_model_is_profiled_by_operator_per_token(api, run_request, tiny_causal_lm):
    from core.doctor import profile_advice

    runs = {name: api.execute(api.submit(lm_request(run_request, tiny_causal_lm, *steps))) for name, steps in {
        "eager": (), "int4": ("lm_onnx_export", "matmul_nbits"),
        "openvino": ("lm_onnx_export", "lm_openvino", "nncf_weight_compression"),
        "compiled": ("static_cache_compile",)}.items()}
    assert all(r.status == "done" for r in runs.values()), {n: r.error for n, r in runs.items()}
    profiles = {name: api.diagnose(runs[name].id, {"calls": 10}, kind="profile") for name in ("eager", "int4",
                                                                                              "openvino")}
    for name, profile in profiles.items():
        s = profile.summary
        assert profile.status == "done", (name, profile.error)
        # whole generations of 4 new tokens hold the 10 calls asked: 3 of them, 12 steps
        assert s["call"] == "token" and s["calls"] == 12 and 0 < s["operators_ms_per_call"], (name, s)
        assert profile.nodes and abs(sum(t["share_pct"] for t in s["op_types"]) - 100.0) < 1e-6
    kernels = {name: {t["op_type"]: t["precision"] for t in p.summary["op_types"]} for name, p in profiles.items()}
    assert kernels["int4"]["MatMulNBits"] == "weight-only" and profiles["int4"].summary["weight_only"]
    assert kernels["openvino"]["FullyConnectedCompressed"] == "weight-only"
    assert profiles["int4"].summary["weight_only_share_pct"] > 0 and not profiles["int4"].summary["quantized"]
    with pytest.raises(RecipeError, match="compiled PyTorch language model on torch-compiled, which has no profiler"):
        api.request_diagnosis(runs["compiled"].id, kind="profile")
    moving = {**profiles["int4"].summary, "layout_share_pct": 45.0, "weight_only_share_pct": 20.0}
    found = {f.rule: f for f in profile_advice(moving)}
    assert set(found) == {"decode_moves_data", "weights_not_the_time"}
    assert "at most 1.25x faster" in found["weights_not_the_time"].advice
    assert "compare lm_openvino" in found["decode_moves_data"].advice


def test_language_models_are_re_measured_side_by_side_per_generated_token(api, run_request, tiny_causal_lm):
    from core import quoting
    from core.errors import ConfigError

    base = api.execute(api.submit(lm_request(run_request, tiny_causal_lm)))
    uncached = api.execute(api.submit(lm_request(run_request, tiny_causal_lm, "no_kv_cache")))
    longer = api.execute(api.submit(lm_request(run_request, tiny_causal_lm.replace("new_tokens=4", "new_tokens=8"))))
    record = api.remeasure([uncached.id, longer.id, base.id], values={"rounds": 5, "block_ms": 1.0, "warmup_ms": 0.0})
    assert record.status == "done" and record.reference_id == base.id, record.error
    assert all(len(medians) == 5 for medians in record.blocks.values())
    results = {r["run_id"]: r for r in record.results}
    # per generated token: twice the tokens per generation is not twice as slow
    assert 0.5 < results[longer.id]["ratio"] < 2.0 and results[uncached.id]["ci_low"] <= results[uncached.id]["ratio"]
    rows = quoting.paired_rows(record, {r.id: r for r in (base, uncached, longer)})
    assert "p50 (ms per token, paired)" in rows[0]
    ratio, _, _ = quoting.unpaired_ratio(longer, base)
    assert ratio == pytest.approx(2 * base.metrics["latency_p50_ms"] / longer.metrics["latency_p50_ms"])
    image = api.execute(api.submit(run_request()))
    with pytest.raises(ConfigError, match="runs of one task side by side; these runs are of image classification "
                                          "and text generation"):
        api.request_comparison([base.id, image.id])


def test_the_run_page_offers_a_task_only_its_techniques_and_scenarios():
    generation = {t["name"] for t in techniques("text-generation")}
    assert generation == {"fp32", "no_kv_cache", "lm_bf16", "torchao_int8_weight_only", "lm_dynamic_int8",
                          "static_cache_compile", "lm_onnx_export", "matmul_nbits", "lm_openvino",
                          "nncf_weight_compression"}
    image = {t["name"] for t in techniques("image-classification")}
    assert "onnx_export" in image and not image & (generation - {"fp32"}) and "transformer_prune" not in image
    assert [s["name"] for s in scenarios("text-generation")] == ["single-stream", "concurrent"]
    assert len(scenarios("image-classification")) == len(scenarios())


def test_a_chart_of_language_models_is_drawn_on_their_own_front(api, run_request, tiny_causal_lm):
    run = api.execute(api.submit(lm_request(run_request, tiny_causal_lm)))
    assert views.axes_for([run], "latency_p50_ms", "top1") == ("itl_p50_ms", "perplexity")
    assert views.axes_for([run], "ttft_p50_ms", "greedy_agreement") == ("ttft_p50_ms", "greedy_agreement")
    from core.report import report_html

    report = report_html([run])  # the shareable report draws it on the same axes, and quotes the same figures
    assert '"text":"inter-token p50 (ms)"' in report and '"text":"perplexity"' in report
    assert f"inter-token p50 {views.metric_text(run, 'itl_p50_ms')}, {views.quality_words(run)}" in report


def lm_record(run, recipe, p50_ms, memory_bound, run_id):
    bound = {"share_pct": 80.0 if memory_bound else 20.0, "memory_bound": memory_bound}
    return replace(run, id=run_id, recipe=[{"technique": t, "config": {}} for t in recipe],
                   metrics={**run.metrics, "latency_p50_ms": p50_ms},
                   environment={**run.environment, "decode_bound": bound})


@pytest.mark.parametrize(("memory_bound", "advice"), [(True, "unpacks the weights at every call"),
                                                      (False, "a fused engine")])
def test_the_doctor_says_why_weight_compression_bought_no_speed(api, run_request, tiny_causal_lm, memory_bound, advice):
    run = api.execute(api.submit(lm_request(run_request, tiny_causal_lm)))
    graph = lm_record(run, ["lm_onnx_export"], 10.2, memory_bound, 501)
    int4 = lm_record(run, ["lm_onnx_export", "matmul_nbits"], 10.0, memory_bound, 502)
    found = {f.rule: f for f in doctor.advise(int4, run, [run, graph, int4])}
    assert "matmul_nbits is 1.02x the speed of run 501 (lm_onnx_export)" in found["weights_no_gain"].figure
    assert advice in found["weights_no_gain"].advice
    faster = lm_record(run, ["lm_onnx_export", "matmul_nbits"], 5.0, memory_bound, 503)
    assert "weights_no_gain" not in {f.rule for f in doctor.advise(faster, run, [run, graph, faster])}


def test_matmul_nbits_with_float_activations_is_cautioned_before_it_is_queued(api, run_request, tiny_causal_lm):
    planned = api.plan(lm_request(run_request, tiny_causal_lm, "lm_onnx_export",
                                  "matmul_nbits:bits=8,accuracy_level=0"))
    (caution,) = planned.recipe.cautions()
    assert "accuracy_level=0 keeps activations in float" in caution and "0.31x eager" in caution
    assert api.plan(lm_request(run_request, tiny_causal_lm, "lm_onnx_export", "matmul_nbits")).recipe.cautions() == []


@pytest.mark.parametrize("steps", [(), ("lm_onnx_export", "lm_openvino")])
def test_concurrent_streams_generate_side_by_side_and_count_every_streams_tokens(api, run_request, tiny_causal_lm,
                                                                                  steps):
    streams = {"clients": 2, "sessions": 2 if steps else 1, "requests": 12}
    run = api.execute(api.submit(lm_request(run_request, tiny_causal_lm, *steps, scenario="concurrent",
                                            scenario_options=streams)))
    assert run.status == "done", run.error
    m, load = run.metrics, run.environment["load"]
    assert load["scenario"] == "concurrent" and load["clients"] == 2 and load["sessions"] == streams["sessions"]
    assert m["latency_count"] == load["requests_sent"] <= 12
    # tokens/s counts every stream's tokens over the wall time they shared
    assert m["generated_tokens_per_s"] == pytest.approx(4 * m["latency_count"] / m["timing_seconds"])
    assert m["itl_p50_ms"] > 0 and m["ttft_p50_ms"] > 0 and m["greedy_agreement"] == 100.0
    assert "decode_bound" not in run.environment  # one stream's bound: not what concurrent streams are bound by


def test_a_language_model_is_explored_for_its_inter_token_latency_and_perplexity_front(api, tiny_causal_lm):
    """The default space offers a language model its own engines and weight formats; the search minimizes the
    perplexity, within 5% of FP32's, and ends with a paired check per generated token."""
    from core.api import ExploreRequest
    from core.explore import analysis
    from core.explore.space import space_from_text
    from tests.conftest import FAST_TIMING
    from tests.helpers import brute_force_front

    offered = api.plan_exploration(ExploreRequest(model=tiny_causal_lm, options={"budget_runs": 30}, **GENERATION))
    assert offered.config["start"] == "lm" and offered.config["latency_metric"] == "itl_p50_ms"
    assert offered.config["max_drop"] == 5.0
    assert {spec for _, choices in offered.space.axes for spec in choices} >= {
        "lm_onnx_export", "static_cache_compile", "matmul_nbits", "lm_openvino", "nncf_weight_compression"}
    assert "weight-only INT4 in ONNX Runtime and in OpenVINO" in api.plan_exploration(ExploreRequest(
        model=tiny_causal_lm, options={"budget_runs": 3}, **GENERATION)).advice.words()
    space = space_from_text("techniques:\n  export: [none, lm_onnx_export]\n  quantize: [none, matmul_nbits]\n"
                            "runtime:\n  threads: [null]\n")
    request = ExploreRequest(model=tiny_causal_lm, space=space, timing=dict(FAST_TIMING),
                             options={"budget_runs": 3, "strategy": "exhaustive", "max_drop": 100.0}, **GENERATION)
    record = api.explore(request)
    runs = api.exploration_runs(record.id)
    assert record.status == "done" and [r.status for r in runs] == ["done"] * 3, [r.error for r in runs]
    assert runs[0].recipe == [] and {r.recipe_summary for r in runs[1:]} == {"lm_onnx_export",
                                                                             "lm_onnx_export → matmul_nbits"}
    result = api.exploration_report(record.id)
    assert (result.constraints.latency, result.constraints.accuracy) == ("itl_p50_ms", "perplexity")
    assert sorted(r.id for r in result.picks.front) == brute_force_front(runs, result.constraints)
    assert result.picks.fastest.run.metrics["itl_p50_ms"] == min(r.metrics["itl_p50_ms"] for r in result.picks.front)
    assert re.search(r"x (faster|slower) in inter-token p50 than the FP32 baseline, .* perplexity",
                     result.picks.fastest.reason) and result.history[-1].share > 0
    paired = [note for note in record.notes if note.startswith("paired check")]
    assert len(paired) == 1 and f"paired, per generated token) than run {runs[0].id}" in paired[0], record.notes
    assert analysis.accuracy_metric(runs) == "perplexity"
