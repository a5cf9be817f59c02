"""Every registered technique runs end to end as a stored run, alone and composed."""
import pytest

from core.bench.env import cpu_info
from core.techniques import TECHNIQUES

TINY = "resnet8:epochs=1,train_limit=2048"
# A minimal valid recipe per technique (the prefix a technique needs, then the technique).
RECIPES = {
    "fp32": ("fp32",),
    "structured_prune": ("structured_prune:ratio=0.3",),
    "unstructured_prune": ("unstructured_prune:ratio=0.5",),
    "distill": ("distill:epochs=1,train_limit=512",),
    "bf16": ("bf16",),
    "channels_last": ("channels_last",),
    "torch_dynamic_int8": ("torch_dynamic_int8",),
    "pt2e_static_int8": ("pt2e_static_int8:calibration_size=32",),
    "torch_compile": ("torch_compile",),
    "onnx_export": ("onnx_export",),
    "fp16": ("onnx_export", "fp16"),
    "ort_dynamic_int8": ("onnx_export", "ort_dynamic_int8"),
    "ort_static_int8": ("onnx_export", "ort_static_int8:calibration_size=32"),
    "ort": ("onnx_export", "ort:graph_optimization=extended,io_binding=true"),
    "nncf_int8": ("onnx_export", "nncf_int8:calibration_size=32,preset=mixed"),
    "openvino": ("onnx_export", "openvino:performance_hint=throughput,streams=2,cpu_pinning=false"),
    "cache": ("onnx_export", "ort:io_binding=true", "cache:capacity=16"),
    "transformer_optimize": ("onnx_export:exporter=torchscript", "transformer_optimize"),
    "distill_layers": ("distill_layers:layers=1,epochs=1,train_limit=64",),
    "transformer_prune": ("transformer_prune:heads=0.5,ffn=0.5,recovery=none",),
    "no_kv_cache": ("no_kv_cache",),
    "lm_bf16": ("lm_bf16",),
    "torchao_int8_weight_only": ("torchao_int8_weight_only",),
    "lm_dynamic_int8": ("lm_dynamic_int8",),
    "static_cache_compile": ("static_cache_compile",),
    "lm_onnx_export": ("lm_onnx_export",),
    "matmul_nbits": ("lm_onnx_export", "matmul_nbits:bits=4,block_size=16"),
    "lm_openvino": ("lm_onnx_export", "lm_openvino"),
    "nncf_weight_compression": ("lm_onnx_export", "lm_openvino", "nncf_weight_compression:mode=int4_asym"),
}
TEXT_ONLY = {"transformer_optimize", "distill_layers", "transformer_prune"}  # image models refuse them: run on the tiny text classifier
# a language model's techniques: run on the tiny causal LM, scored by perplexity
GENERATION = {"no_kv_cache", "lm_bf16", "torchao_int8_weight_only", "lm_dynamic_int8", "static_cache_compile",
              "lm_onnx_export", "matmul_nbits", "lm_openvino", "nncf_weight_compression"}


def test_every_registered_technique_has_a_recipe_here():
    assert set(RECIPES) == set(TECHNIQUES.names())


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_technique_runs_and_is_stored(api, run_request, name, request):
    if name in ("bf16", "lm_bf16") and not {"avx512_bf16", "amx_bf16"} & set(cpu_info()["isa"]):
        pytest.skip("CPU without bfloat16")
    where = {"model": request.getfixturevalue("tiny_text_model"), "dataset": "bbc-news-headlines", "subset": 100} \
        if name in TEXT_ONLY else {"model": request.getfixturevalue("tiny_causal_lm"), "dataset": "bbc-news-articles",
                                   "subset": 10} if name in GENERATION else {"model": TINY, "subset": 100}
    run = api.execute(api.submit(run_request(*RECIPES[name], **where)))
    assert run.status == "done", run.error
    quality = "perplexity" if name in GENERATION else "top1"
    assert run.metrics["latency_p50_ms"] > 0 and run.metrics[quality] is not None
    assert [s["technique"] for s in run.recipe] == [s.split(":")[0] for s in RECIPES[name]]


def test_prune_distill_export_quantize_compose(api, run_request):
    steps = ("structured_prune:ratio=0.3,recovery=distill,recovery_limit=512", "onnx_export",
             "ort_static_int8:calibration_size=32")
    run = api.execute(api.submit(run_request(*steps, model=TINY, subset=100)))
    assert run.status == "done", run.error
    assert any("recovered with distill" in n for n in run.notes)
    assert any("structured_prune: parameters" in n for n in run.notes)
