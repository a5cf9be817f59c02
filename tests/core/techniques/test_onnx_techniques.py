"""onnx_export, ort and ort_static_int8 on a tiny real model."""
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch import nn

from core.artifacts import OnnxArtifact, TorchArtifact
from core.inputs import InputSpec
from core.recipe import RuntimeSettings
from core.runtimes import make_predictor
from core.techniques import TECHNIQUES, BuildContext
from core.techniques.onnx_export import OnnxExportConfig
from core.techniques.ort import OrtConfig
from core.techniques.ort_static_int8 import OrtStaticInt8Config

SPEC = InputSpec(1, 12, 12, (0.0,), (1.0,))


def tiny_cnn():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Conv2d(8, 8, 3), nn.ReLU(), nn.Flatten(),
                         nn.Linear(8 * 8 * 8, 4)).eval()


def context(batch=1):
    rng = np.random.default_rng(0)
    return BuildContext(input_spec=SPEC, example=rng.standard_normal((8, 1, 12, 12)).astype(np.float32), batch=batch,
                        calibration=lambda n: rng.standard_normal((n, 1, 12, 12)).astype(np.float32),
                        work_dir=Path(tempfile.mkdtemp()))


def test_onnx_export_dynamic_batch_matches_torch():
    module = tiny_cnn()
    artifact = TECHNIQUES.get("onnx_export").apply(TorchArtifact(module), OnnxExportConfig(), context())
    model = onnx.load_from_string(artifact.model_bytes)
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # symbolic batch
    assert not any(init.data_location == onnx.TensorProto.EXTERNAL for init in model.graph.initializer)
    session = ort.InferenceSession(artifact.model_bytes, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(1).standard_normal((5, 1, 12, 12)).astype(np.float32)
    with torch.inference_mode():
        np.testing.assert_allclose(session.run(None, {"input": x})[0], module(torch.from_numpy(x)).numpy(),
                                   atol=1e-5)


def test_onnx_export_fixed_batch_uses_the_run_batch():
    artifact = TECHNIQUES.get("onnx_export").apply(TorchArtifact(tiny_cnn()), OnnxExportConfig(dynamic_batch=False),
                                                   context(batch=3))
    dim = onnx.load_from_string(artifact.model_bytes).graph.input[0].type.tensor_type.shape.dim[0]
    assert dim.dim_value == 3


def test_static_int8_inserts_qdq_that_ort_fuses(tmp_path):
    onnx_artifact = TECHNIQUES.get("onnx_export").apply(TorchArtifact(tiny_cnn()), OnnxExportConfig(), context())
    ctx = context()
    quantized = TECHNIQUES.get("ort_static_int8").apply(onnx_artifact, OrtStaticInt8Config(calibration_size=32), ctx)
    ops = [n.op_type for n in onnx.load_from_string(quantized.model_bytes).graph.node]
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(quantized.model_bytes, options, providers=["CPUExecutionProvider"])
    fused = {n.op_type for n in onnx.load(str(tmp_path / "optimized.onnx")).graph.node}
    assert fused & {"QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger"}, fused
    assert any("calibrated on 32 images" in n for n in ctx.notes)
    assert len(quantized.model_bytes) < len(onnx_artifact.model_bytes)


def test_ort_sets_session_options_used_by_the_predictor():
    onnx_artifact = TECHNIQUES.get("onnx_export").apply(TorchArtifact(tiny_cnn()), OnnxExportConfig(), context())
    configured = TECHNIQUES.get("ort").apply(onnx_artifact, OrtConfig(graph_optimization="disable",
                                                                      intra_op_threads=1), context())
    assert configured.model_bytes == onnx_artifact.model_bytes
    predictor = make_predictor(configured, RuntimeSettings(threads=2))
    assert predictor.settings["threads"] == 1 and predictor.settings["graph_optimization"] == "disable"


def test_techniques_do_not_mutate_their_input():
    artifact = OnnxArtifact(b"x", session={"graph_optimization": "all"})
    TECHNIQUES.get("ort").apply(artifact, OrtConfig(graph_optimization="basic"), context())
    assert artifact.session == {"graph_optimization": "all"}


def test_unavailable_provider_is_refused_not_replaced():
    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("CUDA provider present")
    artifact = TECHNIQUES.get("onnx_export").apply(TorchArtifact(tiny_cnn()), OnnxExportConfig(), context())
    with pytest.raises(Exception, match="CUDAExecutionProvider is not available"):
        make_predictor(artifact, RuntimeSettings(device="cuda"))


@pytest.mark.parametrize("method", ["Entropy", "Percentile"])
def test_histogram_calibration_with_uneven_sizes(method):
    onnx_artifact = TECHNIQUES.get("onnx_export").apply(TorchArtifact(tiny_cnn()), OnnxExportConfig(), context())
    config = OrtStaticInt8Config(calibration_method=method, calibration_size=22, per_channel=False)
    quantized = TECHNIQUES.get("ort_static_int8").apply(onnx_artifact, config, context())
    assert "QuantizeLinear" in {n.op_type for n in onnx.load_from_string(quantized.model_bytes).graph.node}
