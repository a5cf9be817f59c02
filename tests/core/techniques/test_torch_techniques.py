"""Each torch-side technique changes what it claims, on tiny models, on the CPU."""
import copy
import tempfile
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from torch import nn

from core.artifacts import TorchArtifact
from core.bench.env import cpu_info
from core.errors import InferScopeError, RecipeError
from core.inputs import InputSpec
from core.models.local_archs import ResNet8
from core.recipe import Recipe, RuntimeSettings, parse_step, validate
from core.techniques import TECHNIQUES, BuildContext
from core.techniques.onnx_export import OnnxExportConfig
from core.techniques.pruning import (
    StructuredPruneConfig,
    UnstructuredPruneConfig,
    sparsity,
)

SPEC = InputSpec(1, 28, 28, (0.0,), (1.0,))
RNG = np.random.default_rng(0)
TRAIN_X = RNG.standard_normal((256, 1, 28, 28)).astype(np.float32)
TRAIN_Y = RNG.integers(0, 10, 256).astype(np.int64)


def context(**overrides):
    fields = dict(input_spec=SPEC, example=TRAIN_X[:8], batch=1, work_dir=Path(tempfile.mkdtemp()),
                  calibration=lambda n: TRAIN_X[:n], train=lambda limit: (TRAIN_X[:limit], TRAIN_Y[:limit]))
    fields.update(overrides)
    return BuildContext(**fields)


def resnet8(seed=0):
    torch.manual_seed(seed)
    return ResNet8().eval()


def apply(name, artifact, config, ctx=None):
    return TECHNIQUES.get(name).apply(artifact, config, ctx or context())


def params(module):
    return sum(p.numel() for p in module.parameters())


def test_structured_prune_removes_channels_and_keeps_the_classifier():
    module = resnet8()
    before_params, before_width = params(module), module.layer3.conv2.out_channels
    ctx = context()
    pruned = apply("structured_prune", TorchArtifact(module), StructuredPruneConfig(ratio=0.5), ctx).module
    assert params(pruned) < 0.6 * before_params
    assert pruned.layer3.conv2.out_channels < before_width
    assert pruned.fc.out_features == 10
    assert pruned(torch.from_numpy(TRAIN_X[:2])).shape == (2, 10)
    assert any("parameters 77,754 ->" in n and "FLOPs" in n for n in ctx.notes)


def test_structured_prune_recovery_trains_the_pruned_model():
    ctx = context()
    pruned = apply("structured_prune", TorchArtifact(resnet8()), StructuredPruneConfig(ratio=0.3), ctx).module
    snapshot = copy.deepcopy(pruned.state_dict())
    config = StructuredPruneConfig(ratio=0.3, recovery="finetune", recovery_epochs=1)
    recovered = apply("structured_prune", TorchArtifact(resnet8()), config, context()).module
    assert any(not torch.equal(snapshot[k], v) for k, v in recovered.state_dict().items())


def test_unstructured_prune_reaches_the_sparsity_and_keeps_shapes():
    module = resnet8()
    shapes = {k: v.shape for k, v in module.state_dict().items()}
    ctx = context()
    pruned = apply("unstructured_prune", TorchArtifact(module), UnstructuredPruneConfig(ratio=0.6), ctx).module
    assert sparsity(pruned) == pytest.approx(0.6, abs=0.01)
    assert {k: v.shape for k, v in pruned.state_dict().items()} == shapes  # dense: no smaller
    assert any("expect no speedup" in n for n in ctx.notes)


def test_recovery_without_a_train_split_is_explained():
    config = StructuredPruneConfig(recovery="finetune")
    with pytest.raises(InferScopeError, match=r"has none; use one that has \(fashion-mnist, bbc-news\) or set recovery=none"):
        apply("structured_prune", TorchArtifact(resnet8()), config, context(train=None))


def test_channels_last_changes_the_layout():
    artifact = apply("channels_last", TorchArtifact(resnet8()), TECHNIQUES.get("channels_last").config_cls())
    assert artifact.channels_last
    assert artifact.module.layer1.conv1.weight.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.skipif(not {"avx512_bf16", "amx_bf16"} & set(cpu_info()["isa"]), reason="CPU without bfloat16")
def test_bf16_changes_dtypes():
    artifact = apply("bf16", TorchArtifact(resnet8()), TECHNIQUES.get("bf16").config_cls())
    assert {p.dtype for p in artifact.module.parameters()} == {torch.bfloat16}


def test_bf16_is_refused_where_the_cpu_cannot(monkeypatch):
    import core.techniques.precision as precision

    monkeypatch.setattr(precision, "cpu_info", lambda: {"cpu": "Old CPU", "isa": ["avx2"]})
    with pytest.raises(RecipeError, match="bf16 needs a CPU with AVX512-BF16 or AMX.*Old CPU"):
        validate(Recipe((parse_step("bf16"),)), "torch")


def test_fp16_onnx_halves_the_weights_and_keeps_float_io():
    onnx_artifact = apply("onnx_export", TorchArtifact(resnet8()), OnnxExportConfig())
    half = apply("fp16", onnx_artifact, TECHNIQUES.get("fp16").config_cls())
    model = onnx.load_from_string(half.model_bytes)
    types = {i.data_type for i in model.graph.initializer}
    assert onnx.TensorProto.FLOAT16 in types and onnx.TensorProto.FLOAT not in types
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert len(half.model_bytes) < 0.6 * len(onnx_artifact.model_bytes)


def test_fp16_torch_needs_cuda():
    with pytest.raises(RecipeError, match="fp16 on a PyTorch model needs device cuda"):
        validate(Recipe((parse_step("fp16"),)), "torch")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fp16_torch_on_cuda():
    artifact = apply("fp16", TorchArtifact(resnet8().cuda()), TECHNIQUES.get("fp16").config_cls(),
                     context(device="cuda"))
    assert {p.dtype for p in artifact.module.parameters()} == {torch.float16}


def test_torch_compile_builds_a_fresh_graph_per_model():
    config = TECHNIQUES.get("torch_compile").config_cls()
    x = torch.from_numpy(TRAIN_X[:1])
    first, second = resnet8(seed=1), resnet8(seed=2)
    with torch.inference_mode():
        expected = [first(x), second(x)]
    compiled = [apply("torch_compile", TorchArtifact(m), config).module for m in (first, second)]
    with torch.inference_mode():
        got = [c(x) for c in compiled]
    assert not torch.allclose(expected[0], expected[1])
    for e, g in zip(expected, got):
        torch.testing.assert_close(g, e, atol=1e-4, rtol=1e-4)


def test_pt2e_static_int8_quantizes_and_compiles():
    module = resnet8()
    ctx = context()
    artifact = TECHNIQUES.get("pt2e_static_int8").apply(TorchArtifact(module), TECHNIQUES.get(
        "pt2e_static_int8").config_cls(calibration_size=16), ctx)
    assert artifact.kind == "compiled"
    graph_ops = {str(n.target) for n in artifact.source.graph.nodes}
    assert any("quantize_per_tensor" in op for op in graph_ops) and any("dequantize_per_channel" in op
                                                                      for op in graph_ops)
    x = torch.from_numpy(TRAIN_X[:1])
    with torch.inference_mode():
        close = torch.nn.functional.cosine_similarity(artifact.module(x), module(x)).item()
    assert close > 0.95


def test_torch_dynamic_int8_quantizes_linear_layers():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10)).eval()
    reference = copy.deepcopy(model)
    artifact = apply("torch_dynamic_int8", TorchArtifact(model), TECHNIQUES.get("torch_dynamic_int8").config_cls())
    assert "Int8" in type(artifact.module[1].weight).__name__
    x = torch.from_numpy(TRAIN_X[:4])
    with torch.inference_mode():
        torch.testing.assert_close(artifact.module(x), reference(x), atol=0.05, rtol=0.1)
    with pytest.raises(InferScopeError, match="has none"):
        apply("torch_dynamic_int8", TorchArtifact(nn.Sequential(nn.Conv2d(1, 2, 3)).eval()),
              TECHNIQUES.get("torch_dynamic_int8").config_cls())


@pytest.mark.parametrize("specs, start, message", [
    (("torch_compile", "onnx_export"), "torch", "torch_compile compiles the model, so it must come after onnx_export"),
    (("onnx_export", "fp16", "ort_static_int8"), "torch", "fp16 and ort_static_int8 cannot be combined"),
    (("pt2e_static_int8", "torch_dynamic_int8"), "torch", "cannot be combined"),
    (("torch_compile", "channels_last"), "torch", "move channels_last before torch_compile"),
])
def test_impossible_combinations(specs, start, message):
    with pytest.raises(RecipeError, match=message):
        validate(Recipe(tuple(parse_step(s) for s in specs), RuntimeSettings()), start)
