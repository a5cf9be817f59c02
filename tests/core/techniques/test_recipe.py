import pytest

from core.errors import InferScopeError, RecipeError, UnknownNameError
from core.recipe import Recipe, parse_step, validate


def recipe(*specs):
    return Recipe(tuple(parse_step(s) for s in specs))


def test_valid_chain():
    r = recipe("onnx_export", "ort_static_int8:per_channel=false", "ort:graph_optimization=basic")
    validate(r, "torch")
    assert r.final_kind("torch") == "onnx" and r.calibration_size() == 200
    assert [s["technique"] for s in r.steps_json()] == ["onnx_export", "ort_static_int8", "ort"]


@pytest.mark.parametrize("specs, start, message", [
    (("ort_static_int8",), "torch", "add onnx_export before ort_static_int8"),
    (("ort", "onnx_export"), "torch", "must come after the steps that transform the model"),
    (("cache", "onnx_export"), "torch", "move it after onnx_export"),
    (("onnx_export",), "onnx", "this model is an ONNX file; remove onnx_export"),
    (("fp32", "onnx_export"), "torch", "cannot be combined"),
    (("onnx_export", "ort_static_int8", "ort_static_int8"), "torch", "appears 2 times"),
])
def test_impossible_orders_say_what_to_change(specs, start, message):
    with pytest.raises(RecipeError, match=message):
        validate(recipe(*specs), start)


def test_unknown_technique_and_option():
    with pytest.raises(UnknownNameError, match="valid techniques: bf16, cache, channels_last, distill, distill_layers, fp16, fp32, "
                                             "lm_bf16, lm_dynamic_int8, lm_onnx_export, lm_openvino, matmul_nbits, "
                                             "nncf_int8, nncf_weight_compression, no_kv_cache, onnx_export"):
        parse_step("tensorrt")
    with pytest.raises(InferScopeError, match="must be one of MinMax, Entropy, Percentile"):
        parse_step("ort_static_int8:calibration_method=Distribution")
    with pytest.raises(InferScopeError, match="at least 1"):
        parse_step("ort_static_int8:calibration_size=0")
