"""Each doctor rule fires on a constructed case and stays silent on a clean one."""
from dataclasses import replace

import pytest

from core import doctor
from core.store import RunStore
from tests.seed import seed_runs


@pytest.fixture
def pair(tmp_path):
    """An FP32 baseline and an ONNX Runtime run of the same model, 4x faster, on 2 cores, quiet."""
    store = RunStore(f"sqlite:///{tmp_path / 'd.db'}")
    ids = seed_runs(store, 6, models=("resnet8",))
    base = store.get(ids[0])
    base = replace(base, metrics={**base.metrics, "latency_p50_ms": 2.0}, environment={"logical_cores": 2})
    clean = replace(base, id=99, recipe=[{"technique": "onnx_export", "config": {}}],
                    metrics={**base.metrics, "latency_p50_ms": 0.5})
    return base, clean


# What a text run stores about its inputs (`environment["inputs"]`): short texts, dynamically padded.
TEXT_INPUTS = {"kind": "text", "max_length": 128, "padding": "dynamic", "tokens_p50": 14.0, "tokens_p90": 20.0,
               "tokens_max": 40.0, "truncated_pct": 0.0, "tokens_mean_run": 15.0, "padded_length_mean": 18.0,
               "padding_pct": 16.0}


def steps(*names):
    return [{"technique": name, "config": {}} for name in names]


def fired(run, base):
    return {f.rule for f in doctor.advise(run, base)}


CASES = [
    ("dynamic_int8_on_convolutions", lambda r: replace(r, recipe=steps("onnx_export", "ort_dynamic_int8"),
                                                      metrics={**r.metrics, "latency_p50_ms": 1.9})),
    ("unstructured_sparsity", lambda r: replace(r, recipe=steps("unstructured_prune"),
                                               metrics={**r.metrics, "latency_p50_ms": 2.1})),
    ("fp16_on_cpu", lambda r: replace(r, recipe=steps("onnx_export", "fp16"))),
    ("openvino_no_faster", lambda r: replace(r, recipe=steps("onnx_export", "openvino"),
                                            metrics={**r.metrics, "latency_p50_ms": 2.5})),
    ("threads_over_cores", lambda r: replace(r, runtime={**r.runtime, "threads": 8})),
    ("per_call_overhead", lambda r: replace(r, runtime={**r.runtime, "batch": 1},
                                           metrics={**r.metrics, "latency_p50_ms": 0.05})),
    ("noisy", lambda r: replace(r, noisy=True, metrics={**r.metrics, "other_cpu_pct": 140.0})),
    ("dynamic_int8_transformer_no_gain", lambda r: replace(r, recipe=steps("onnx_export", "ort_dynamic_int8"),
                                                          metrics={**r.metrics, "latency_p50_ms": 1.9},
                                                          environment={**r.environment, "inputs": TEXT_INPUTS})),
    ("padding_waste", lambda r: replace(r, environment={**r.environment, "inputs": {**TEXT_INPUTS,
                                                                                    "padding_pct": 85.0}})),
    ("attention_not_fused", lambda r: replace(r, environment={**r.environment, "steps": {"transformer_optimize": {
        "fused": {"SkipLayerNormalization": 12}, "attention_fused": False, "why_not": "export it otherwise"}}})),
    ("accuracy_lost", lambda r: replace(r, recipe=steps("structured_prune"), metrics={**r.metrics, "top1": 22.2})),
    ("kv_cache_off", lambda r: replace(r, recipe=steps("no_kv_cache"))),
    ("weights_no_gain", lambda r: replace(r, recipe=steps("lm_onnx_export", "matmul_nbits"),
                                         metrics={**r.metrics, "latency_p50_ms": 1.9},
                                         environment={**r.environment, "decode_bound": {"share_pct": 70.0,
                                                                                        "memory_bound": True}})),
]


@pytest.mark.parametrize("recipe, words", [
    (steps("structured_prune"), "structured_prune ran without recovery: set recovery to finetune or distill"),
    ([{"technique": "structured_prune", "config": {"recovery": "finetune"}}], "structured_prune removed too much"),
    (steps("onnx_export", "ort_static_int8"), "ort_static_int8 lost it in quantization: find the nodes"),
    (steps("onnx_export", "fp16"), "try its steps one at a time"),
])
def test_a_run_that_lost_accuracy_is_told_what_to_try_from_its_steps(pair, recipe, words):
    base, clean = pair
    top1 = base.metrics["top1"]
    lost = replace(clean, recipe=recipe, metrics={**clean.metrics, "top1": top1 * 0.9})
    (finding,) = [f for f in doctor.advise(lost, base) if f.rule == "accuracy_lost"]
    assert words in finding.advice and f"against {top1:.1f}% in FP32 (10% of it lost, more than 5%)" in finding.figure
    slight = replace(lost, metrics={**clean.metrics, "top1": top1 * 0.96})
    assert "accuracy_lost" not in fired(slight, base), "4% of it is within the stated share"


def test_dynamic_int8_on_a_transformer_is_not_blamed_on_convolutions(pair):
    base, clean = pair
    slow = replace(clean, recipe=steps("onnx_export", "ort_dynamic_int8"), metrics={**clean.metrics,
                                                                                   "latency_p50_ms": 1.9})
    assert "dynamic_int8_on_convolutions" in fired(slow, base)
    text = replace(slow, environment={**slow.environment, "inputs": TEXT_INPUTS})
    assert fired(text, base) >= {"dynamic_int8_transformer_no_gain"}
    assert "dynamic_int8_on_convolutions" not in fired(text, base)


def test_every_rule_has_a_case():
    assert sorted(doctor.RULES.names()) == sorted(name for name, _ in CASES)


@pytest.mark.parametrize("name, make", CASES, ids=[c[0] for c in CASES])
def test_each_rule_fires_on_its_case_and_says_what_to_try(pair, name, make):
    base, clean = pair
    clean = replace(clean, runtime={**clean.runtime, "batch": 8})  # no per-call overhead unless the case says
    assert name not in fired(clean, base)
    case = make(clean)
    assert name in fired(case, base)
    (finding,) = [f for f in doctor.advise(case, base) if f.rule == name]
    assert finding.figure and finding.advice and ": " in finding.words()


def test_a_clean_run_gets_no_note(pair):
    base, clean = pair
    assert doctor.advise(replace(clean, runtime={**clean.runtime, "batch": 8}), base) == []


def test_a_real_run_stores_its_findings(api, run_request):
    run = api.execute(api.submit(run_request("onnx_export", "fp16")))
    assert run.status == "done" and "fp16_on_cpu" in {f["rule"] for f in run.advice}
    assert api.run(run.id).advice == run.advice and run.to_json()["advice"] == run.advice


def test_a_step_is_judged_against_the_same_recipe_without_it(pair):
    """Dynamic INT8 after an ONNX export is compared with ONNX Runtime FP32, not with eager FP32."""
    base, ort = pair  # ort: onnx_export, 4x faster than eager FP32
    dynamic = replace(ort, id=100, recipe=steps("onnx_export", "ort_dynamic_int8"),
                      metrics={**ort.metrics, "latency_p50_ms": 0.49})  # 4.1x eager, but 1.02x ORT FP32
    assert "dynamic_int8_on_convolutions" not in fired(dynamic, base)  # against eager FP32 alone it looks fine
    (finding,) = [f for f in doctor.advise(dynamic, base, [base, ort]) if f.rule == "dynamic_int8_on_convolutions"]
    assert finding.figure == "ort_dynamic_int8 is 1.02x the speed of run 99 (onnx_export)"
