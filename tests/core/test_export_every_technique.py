"""Every technique in the catalogue through export: a verified file with what it does not carry, or a
refusal before anything is rebuilt that names the nearest exportable configuration — never a traceback."""
import json

import onnx
import pytest

from core import export as export_module
from core.errors import InferScopeError, RecipeError
from core.techniques import TECHNIQUES
from tests.seed import seed_recipe_run

# A run of each technique that exports: the recipe, and a word each note must contain (None: no note).
EXPORTED = {
    "fp32": (("fp32",), None),
    "structured_prune": (("structured_prune:ratio=0.25",), None),
    "unstructured_prune": (("unstructured_prune:ratio=0.5",), None),
    "distill": (("distill:student=lenet5,epochs=1,train_limit=256",), None),
    "channels_last": (("channels_last",), "memory layout"),
    "torch_compile": (("torch_compile",), "uncompiled"),
    "onnx_export": (("onnx_export",), None),
    "fp16": (("onnx_export", "fp16"), None),
    "ort_dynamic_int8": (("onnx_export", "ort_dynamic_int8"), None),
    "ort_static_int8": (("onnx_export", "ort_static_int8:calibration_size=32"), None),
    "ort": (("onnx_export", "ort:graph_optimization=basic"), "inferscope.session"),
    "nncf_int8": (("onnx_export", "nncf_int8:calibration_size=32"), None),
    "openvino": (("onnx_export", "openvino"), "inferscope.measured_with"),
    "cache": (("onnx_export", "cache:repeat_ratio=0.5"), "serving choice"),
    "transformer_optimize": (("onnx_export:exporter=torchscript", "transformer_optimize"), None),
    "distill_layers": (("distill_layers:layers=1,epochs=1,train_limit=64",), None),
    "transformer_prune": (("transformer_prune:heads=0.5,ffn=0.5,recovery=none",), None),
    "no_kv_cache": (("no_kv_cache",), "keeps its cache"),
    "static_cache_compile": (("static_cache_compile",), "torch.compile"),
    "lm_onnx_export": (("lm_onnx_export",), None),
    "matmul_nbits": (("lm_onnx_export", "matmul_nbits"), None),
    "lm_openvino": (("lm_onnx_export", "lm_openvino"), "OpenVINO reads it"),
}
TEXT_ONLY = {"transformer_optimize", "distill_layers", "transformer_prune"}  # run on the tiny text classifier: image models refuse them
GENERATION = {"no_kv_cache", "static_cache_compile", "lm_onnx_export", "matmul_nbits", "lm_openvino",
              "lm_bf16", "torchao_int8_weight_only", "lm_dynamic_int8", "nncf_weight_compression"}  # run on the tiny language model
# A run of each technique that has no faithful ONNX form: the recipe and the alternative offered.
REFUSED = {
    "bf16": (("bf16",), "onnx_export → fp16"),
    "torch_dynamic_int8": (("torch_dynamic_int8",), "onnx_export → ort_dynamic_int8"),
    "pt2e_static_int8": (("pt2e_static_int8:calibration_size=32",), "onnx_export → ort_static_int8"),
    "lm_bf16": (("lm_bf16",), "lm_onnx_export → matmul_nbits"),
    "torchao_int8_weight_only": (("torchao_int8_weight_only",), "lm_onnx_export → matmul_nbits"),
    "lm_dynamic_int8": (("lm_dynamic_int8",), "lm_onnx_export → matmul_nbits"),
    "nncf_weight_compression": (("lm_onnx_export", "lm_openvino", "nncf_weight_compression"),
                                "lm_onnx_export → matmul_nbits"),
}


def model_of(name: str, request) -> dict:
    """The model a technique's run is measured on: the tiny text classifier, the tiny language model, or (the
    default) the tiny image classifier."""
    if name in TEXT_ONLY:
        return {"model": request.getfixturevalue("tiny_text_model"), "dataset": "bbc-news-headlines", "subset": 48}
    if name in GENERATION:
        return {"model": request.getfixturevalue("tiny_causal_lm"), "dataset": "bbc-news-articles", "subset": 10}
    return {}


def test_every_technique_in_the_catalogue_has_an_export_case():
    assert set(EXPORTED) | set(REFUSED) == set(TECHNIQUES.names())
    assert not set(EXPORTED) & set(REFUSED)


@pytest.mark.parametrize("name", sorted(EXPORTED))
def test_a_run_of_each_exportable_technique_exports_a_verified_file(name, api, run_request, tmp_path, request):
    import zipfile

    specs, note_word = EXPORTED[name]
    run = api.execute(api.submit(run_request(*specs, **model_of(name, request))))
    assert run.status == "done", run.error
    assert api.export_plan(run.id).exportable
    result = api.export(run.id, tmp_path / f"{name}.onnx")
    assert result.path.is_file() and abs(result.difference) <= 100 * result.ties_excused / result.images + 1e-9
    graph = zipfile.ZipFile(result.path).read("model.onnx") if model_of(name, request) else result.path.read_bytes()
    meta = {p.key: p.value for p in onnx.load_from_string(graph).metadata_props}
    not_carried = json.loads(meta["inferscope.not_carried"])
    assert not_carried == list(result.notes)
    if note_word is None:
        assert result.notes == ()
    else:
        assert len(result.notes) == 1 and note_word in result.notes[0]


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_run_without_an_onnx_form_is_refused_before_any_rebuild(name, api, run_request, tmp_path, monkeypatch,
                                                                  request):
    specs, alternative = REFUSED[name]
    run_id = seed_recipe_run(api, run_request, specs, **model_of(name, request))
    monkeypatch.setattr(export_module, "prepare_run", lambda *a, **k: pytest.fail("the run was rebuilt"))
    with pytest.raises(RecipeError, match=f"run {run_id} cannot be exported: {name} .*nearest exportable "
                                          f"configuration is {alternative}"):
        api.export(run_id, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()
    plan = api.export_plan(run_id)
    assert not plan.exportable and plan.alternative_summary == alternative


def test_the_offered_alternative_is_queued_measured_and_exports(api, run_request, tmp_path):
    source = seed_recipe_run(api, run_request, ("structured_prune:ratio=0.25", "pt2e_static_int8:calibration_size=32",
                                                "torch_compile"))
    new_id = api.queue_export_alternative(source)
    queued = api.run(new_id)
    assert [s["technique"] for s in queued.recipe] == ["structured_prune", "onnx_export", "ort_static_int8"]
    assert queued.recipe[0]["config"]["ratio"] == 0.25 and queued.subset_size == api.run(source).subset_size
    assert api.execute(new_id).status == "done"
    assert api.export(new_id, tmp_path / "alternative.onnx").path.is_file()


def test_an_exportable_run_has_no_alternative_to_queue(api, run_request):
    run = api.execute(api.submit(run_request("onnx_export")))
    with pytest.raises(InferScopeError, match="can be exported as it is"):
        api.queue_export_alternative(run.id)


def test_an_output_folder_is_refused_before_the_rebuild(api, run_request, tmp_path, monkeypatch):
    run = api.execute(api.submit(run_request("onnx_export")))
    monkeypatch.setattr(export_module, "prepare_run", lambda *a, **k: pytest.fail("the run was rebuilt"))
    with pytest.raises(InferScopeError, match=f"{tmp_path} is a folder; give a file name, e.g. .*inferscope-run-"):
        api.export(run.id, tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InferScopeError, match="is a file, not a folder"):
        api.export(run.id, tmp_path / "file" / "model.onnx")
