"""openvino (from ONNX and from torch) and nncf_int8 (plain and accuracy-controlled) on a tiny real model."""
import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from core.artifacts import TorchArtifact
from core.errors import InferScopeError, RecipeError
from core.recipe import Recipe, parse_step, validate
from core.techniques import TECHNIQUES
from core.techniques.nncf_int8 import NncfInt8Config
from core.techniques.onnx_export import OnnxExportConfig
from core.techniques.openvino import OpenVinoConfig
from tests.core.techniques.test_onnx_techniques import context, tiny_cnn


def exported(module=None, ctx=None):
    return TECHNIQUES.get("onnx_export").apply(TorchArtifact(module or tiny_cnn()), OnnxExportConfig(),
                                               ctx or context())


def with_validation(ctx, labels=True):
    """A context whose validation images are labelled by the float model itself (so FP32 scores 100%)."""
    module = tiny_cnn()
    rng = np.random.default_rng(5)

    def validation(calibration_size, size):
        images = rng.standard_normal((size, 1, 12, 12)).astype(np.float32)
        with torch.inference_mode():
            truth = module(torch.from_numpy(images)).argmax(1).numpy()
        return images, truth if labels else None

    ctx.validation = validation
    return ctx


def test_openvino_from_a_torch_module_converts_it_and_checks_it_against_torch():
    module, ctx = tiny_cnn(), context()
    artifact = TECHNIQUES.get("openvino").apply(TorchArtifact(module), OpenVinoConfig(), ctx)
    assert artifact.kind == "openvino" and artifact.onnx_bytes is None and artifact.source_module is module
    assert artifact.size_bytes() > 0 and artifact.config["precision"] == "f32"
    assert any(note.startswith("openvino: max |source - OpenVINO| =") for note in ctx.notes)


def test_openvino_keeps_the_onnx_graph_it_read():
    source, ctx = exported(), context()
    artifact = TECHNIQUES.get("openvino").apply(source, OpenVinoConfig(performance_hint="throughput"), ctx)
    assert artifact.onnx_bytes == source.model_bytes and artifact.size_bytes() == len(source.model_bytes)
    assert artifact.config["performance_hint"] == "throughput"


def test_a_graph_openvino_cannot_read_is_a_clear_error():
    from core.artifacts import OnnxArtifact

    with pytest.raises(InferScopeError, match="openvino: OpenVINO cannot read this ONNX graph"):
        TECHNIQUES.get("openvino").apply(OnnxArtifact(b"not an onnx file"), OpenVinoConfig(), context())


def test_nncf_int8_writes_qdq_onnx_that_runs_in_onnxruntime_and_keeps_named_nodes_in_float():
    source = exported()
    first_conv = next(n.name for n in onnx.load_from_string(source.model_bytes).graph.node if n.op_type == "Conv")
    ctx = context()
    quantized = TECHNIQUES.get("nncf_int8").apply(source, NncfInt8Config(calibration_size=16,
                                                                         keep_float=(first_conv,)), ctx)
    graph = onnx.load_from_string(quantized.model_bytes).graph
    assert "QuantizeLinear" in {n.op_type for n in graph.node}
    producers = {out: n for n in graph.node for out in n.output}
    kept = next(n for n in graph.node if n.name == first_conv)
    assert producers.get(kept.input[1]) is None or producers[kept.input[1]].op_type != "DequantizeLinear"
    session = ort.InferenceSession(quantized.model_bytes, providers=["CPUExecutionProvider"])
    assert session.run(None, {"input": ctx.example})[0].shape == (8, 4)
    assert any(note.startswith("nncf_int8: calibrated on 16 images (performance preset") for note in ctx.notes)


def test_nncf_int8_refuses_an_unknown_node_with_some_real_names():
    with pytest.raises(InferScopeError,
                       match="nncf_int8: keep_float nope matches no node; .*some node names: .*node_conv2d"):
        TECHNIQUES.get("nncf_int8").apply(exported(), NncfInt8Config(calibration_size=8, keep_float=("nope",)),
                                          context())


@pytest.mark.parametrize("labels", [True, False], ids=["top-1", "agreement"])
def test_nncf_accuracy_control_scores_with_the_runs_validation_images_and_says_the_outcome(labels):
    ctx = with_validation(context(), labels)
    config = NncfInt8Config(calibration_size=16, max_drop=100.0, validation_size=40)
    quantized = TECHNIQUES.get("nncf_int8").apply(exported(), config, ctx)
    assert "QuantizeLinear" in {n.op_type for n in onnx.load_from_string(quantized.model_bytes).graph.node}
    metric = "top-1" if labels else "agreement with FP32"
    note = next(n for n in ctx.notes if n.startswith("nncf_int8 accuracy control"))
    assert f"FP32 {metric} 100.00" in note and "on 40 validation images" in note and "within 100 points" in note


@pytest.mark.parametrize("steps, reason", [
    (("onnx_export", "ort", "openvino"), "pick one runtime"),
    (("onnx_export", "nncf_int8", "ort_static_int8"), "a graph is quantized once"),
    (("torch_dynamic_int8", "openvino"), "cannot convert torch's dynamic INT8"),
    (("bf16", "openvino"), "openvino:precision=bf16"),
    (("onnx_export", "fp16", "nncf_int8"), "needs a float32 graph"),
])
def test_recipes_that_cannot_run_in_openvino_or_quantize_twice_are_refused(steps, reason):
    with pytest.raises(RecipeError, match=reason):
        validate(Recipe(tuple(parse_step(s) for s in steps)), "torch")


def test_openvino_comes_last_and_takes_no_compiled_model():
    with pytest.raises(RecipeError, match="openvino configures how the final model runs"):
        validate(Recipe((parse_step("onnx_export"), parse_step("openvino"), parse_step("nncf_int8"))), "torch")
    with pytest.raises(RecipeError, match="openvino needs an ONNX or a PyTorch model"):
        validate(Recipe((parse_step("torch_compile"), parse_step("openvino"))), "torch")
    validate(Recipe((parse_step("onnx_export"), parse_step("openvino"), parse_step("cache"))), "torch")


def test_a_quantized_graph_in_openvino_is_checked_against_onnxruntime_loosely_and_says_why():
    ctx = context()
    quantized = TECHNIQUES.get("nncf_int8").apply(exported(), NncfInt8Config(calibration_size=16), ctx)
    artifact = TECHNIQUES.get("openvino").apply(quantized, OpenVinoConfig(), ctx)
    assert artifact.onnx_bytes == quantized.model_bytes
    assert ctx.notes[-1].startswith("openvino: max |source - OpenVINO| =")
    assert ctx.notes[-1].endswith("(INT8 kernels differ between engines)")
