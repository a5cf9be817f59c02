"""Integration: text runs end to end through the api, on a tiny BERT saved in a folder (the `huggingface` source):
the packed inputs reach every engine as the graph's named inputs, tokenization stays outside the timing, and every
run stores the token lengths of its texts and the padding it ran with."""
from __future__ import annotations

import pytest

from tests.conftest import FAST_TIMING


@pytest.fixture
def text_request(tiny_text_model):
    from core.api import RunRequest

    def make(*techniques: str, model_options: str = "", **overrides):
        model = tiny_text_model + (f",{model_options}" if model_options else "")
        fields = {"model": model, "dataset": "bbc-news-headlines", "subset": 48, "techniques": techniques,
                  "timing": dict(FAST_TIMING), "batch": 4}
        fields.update(overrides)
        return RunRequest(**fields)
    return make


def test_the_fp32_text_run_stores_its_token_lengths_and_agrees_with_itself(api, text_request):
    run = api.execute(api.submit(text_request()))
    assert run.status == "done", run.error
    assert run.metrics["agreement"] == 100.0 and run.metrics["top1"] is not None and run.engine == "torch-eager"
    inputs = run.environment["inputs"]
    assert inputs["kind"] == "text" and inputs["max_length"] == 128 and inputs["padding"] == "fixed"
    assert inputs["tokens_p50"] < 40 and inputs["padded_length_mean"] == 128 and inputs["padding_pct"] > 70
    assert any("assuming the model's 5 outputs follow bbc-news-headlines" in note for note in run.notes)
    assert run.metrics["tokens_mean"] == pytest.approx(inputs["tokens_mean_run"])
    assert run.metrics["tokens_per_s"] == pytest.approx(run.metrics["throughput_ips"] * inputs["tokens_mean_run"])
    assert run.metrics["padding_pct"] == pytest.approx(inputs["padding_pct"])


@pytest.mark.parametrize("techniques, engine", [
    (("onnx_export",), "onnxruntime"),
    (("onnx_export", "ort_dynamic_int8"), "onnxruntime"),
    (("onnx_export", "openvino"), "openvino"),
    (("torch_dynamic_int8",), "torch-eager"),
])
def test_every_engine_runs_the_text_model_on_its_named_inputs(api, text_request, techniques, engine):
    run = api.execute(api.submit(text_request(*techniques)))
    assert run.status == "done", run.error
    assert run.engine == engine and run.metrics["agreement"] >= 90 and run.metrics["logit_cosine"] > 0.98


def test_the_exported_graph_takes_named_inputs_with_dynamic_batch_and_sequence(settings, tiny_text_model):
    import numpy as np
    import onnx

    from core.datasets import load_dataset
    from core.models import build_model, parse_model
    from core.techniques.base import BuildContext
    from core.techniques.onnx_export import OnnxExportConfig
    from core.techniques.onnx_export import apply as export

    model = build_model(parse_model(tiny_text_model), settings)
    split = load_dataset("bbc-news-headlines", settings, None).evaluation
    example = model.input_spec.prepare(split, np.arange(4))
    ctx = BuildContext(input_spec=model.input_spec, example=example, batch=4, calibration=None, validation=None,
                       progress=lambda *a: None, device="cpu", train=None, reference=None, settings=settings,
                       model_name="tiny", work_dir=None)
    graph = onnx.load_from_string(export(model.artifact, OnnxExportConfig(), ctx).model_bytes).graph
    names = [i.name for i in graph.input]
    assert names == ["input_ids", "attention_mask", "token_type_ids"]
    dims = [[d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in graph.input]
    assert all(isinstance(batch, str) and isinstance(length, str) for batch, length in dims)


def test_dynamic_padding_runs_each_call_at_its_longest_text(api, text_request):
    fixed = api.execute(api.submit(text_request("onnx_export")))
    dynamic = api.execute(api.submit(text_request("onnx_export", model_options="padding=dynamic")))
    assert fixed.status == dynamic.status == "done", (fixed.error, dynamic.error)
    assert dynamic.environment["inputs"]["padded_length_mean"] < 40 < fixed.environment["inputs"]["padded_length_mean"]
    assert dynamic.environment["inputs"]["padding_pct"] < fixed.environment["inputs"]["padding_pct"]
    assert dynamic.metrics["top1"] == pytest.approx(fixed.metrics["top1"])  # padding is masked: same predictions


def test_flips_of_text_runs_show_the_start_of_each_flipped_text(api, text_request):
    from core.flips import SNIPPET_CHARS, snippet

    fp32 = api.execute(api.submit(text_request()))
    pruned = api.execute(api.submit(text_request("unstructured_prune:ratio=0.9")))
    found = api.flips(pruned.id, fp32.id)
    assert found["images"] == [] and len(found["texts"]) == min(24, len(found["flips"].indices))
    assert found["flips"].indices, "a 90% pruned model should change some predictions"
    assert all(isinstance(text, str) and 0 < len(text) <= SNIPPET_CHARS + 2 for text in found["texts"])
    assert snippet("word " * 100).endswith(" …") and snippet("a  short\ntext") == "a short text"


def test_a_text_run_exports_one_zip_with_its_graph_and_tokenizer_verified(api, text_request, tmp_path):
    import json
    import zipfile

    import numpy as np
    import onnxruntime as ort
    from transformers import AutoTokenizer

    run = api.execute(api.submit(text_request("onnx_export", "ort_dynamic_int8")))
    result = api.export(run.id, tmp_path / "classifier.onnx")
    assert result.path == tmp_path / "classifier.zip" and result.path.is_file()
    assert not (tmp_path / "classifier.onnx").exists() and result.images == 48
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(result.path) as zipped:
        zipped.extractall(unpacked)
    manifest = json.loads((unpacked / "inferscope.json").read_text())
    assert manifest["inputs"] == ["input_ids", "attention_mask", "token_type_ids"]
    assert manifest["input_spec"]["max_length"] == 128 and manifest["input_spec"]["padding"] == "fixed"
    assert manifest["classes"] == ["business", "entertainment", "politics", "sport", "tech"]  # the config's labels
    tokenizer = AutoTokenizer.from_pretrained(str(unpacked))  # what a deployment does with the zip alone
    session = ort.InferenceSession(str(unpacked / "model.onnx"), providers=["CPUExecutionProvider"])
    feeds = {k: v.astype(np.int64) for k, v in tokenizer(["Shares rise as profits beat forecasts"],
                                                           return_tensors="np").items()}
    assert session.run(None, feeds)[0].shape == (1, 5)


@pytest.mark.parametrize("techniques", [(), ("onnx_export",), ("onnx_export", "openvino")])
def test_a_text_run_is_profiled_by_operator(api, text_request, techniques):
    run = api.execute(api.submit(text_request(*techniques)))
    profile = api.diagnose(run.id, {"calls": 20}, kind="profile")
    assert profile.status == "done", profile.error
    assert profile.summary["wall_ms_per_call"] > 0 and profile.nodes
    assert sum(t["share_pct"] for t in profile.summary["op_types"]) == pytest.approx(100.0)


def test_a_static_int8_text_run_is_diagnosed_node_by_node(api, text_request):
    int8 = api.execute(api.submit(text_request("onnx_export", "ort_static_int8:calibration_size=32")))
    assert int8.status == "done", int8.error
    diagnosis = api.diagnose(int8.id, {"candidates": 2})
    assert diagnosis.status == "done", diagnosis.error
    assert diagnosis.nodes and all(node["noise_added_pct"] >= 0 for node in diagnosis.nodes)
    assert len([n for n in diagnosis.nodes if n["recovered"] is not None]) == 2
    assert any("MatMul" in node["node"] for node in diagnosis.nodes), [n["node"] for n in diagnosis.nodes]


@pytest.mark.parametrize("exporter, attention", [("torchscript", True), ("dynamo", False)])
def test_the_transformer_optimizer_counts_its_fusions_and_says_why_attention_did_not_fuse(api, text_request,
                                                                                          exporter, attention):
    run = api.execute(api.submit(text_request(f"onnx_export:exporter={exporter}", "transformer_optimize")))
    assert run.status == "done", run.error
    fusion = run.environment["steps"]["transformer_optimize"]
    assert fusion["fused"]["SkipLayerNormalization"] == 4 and fusion["attention_fused"] is attention, fusion
    assert (fusion["fused"].get("Attention") == 2) is attention
    advice = {f["rule"]: f for f in run.advice}
    if attention:
        assert "attention_not_fused" not in advice, fusion
    else:
        assert "exporter=torchscript" in advice["attention_not_fused"]["advice"]
    assert run.metrics["agreement"] == 100.0


def test_the_transformer_optimizer_is_refused_for_an_image_model(api, run_request):
    from core.errors import RecipeError

    with pytest.raises(RecipeError, match="transformer_optimize does not apply to image classification models"):
        api.submit(run_request("onnx_export", "transformer_optimize"))


def test_dynamic_int8_quantizes_a_fused_transformer_graph(api, text_request):
    run = api.execute(api.submit(text_request("onnx_export:exporter=torchscript", "transformer_optimize",
                                              "ort_dynamic_int8")))
    assert run.status == "done", run.error
    assert run.environment["steps"]["transformer_optimize"]["attention_fused"] and run.metrics["agreement"] >= 90


def test_a_hugging_face_model_that_is_not_here_is_refused_with_what_to_do(settings, tmp_path):
    from core.errors import ModelError
    from core.models import build_model, parse_model

    with pytest.raises(ModelError, match="offline and not in the Hugging Face cache.*save_pretrained"):
        build_model(parse_model("huggingface:id=nobody/no-such-model"), settings)
    with pytest.raises(ModelError, match="huggingface needs the model: --model huggingface:id="):
        build_model(parse_model("huggingface"), settings)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="has no config.json"):
        build_model(parse_model(f"huggingface:id={tmp_path / 'empty'}"), settings)
