"""`keep_float` by node name, glob pattern or named group, on the graphs both exporters make of a tiny BERT: the
dynamo exporter names nodes `node_MatMul_51` and keeps the module path in its metadata, the TorchScript one names
nodes by module path; either way `@attention` finds the attention's nodes and `@ffn` the feed-forward ones. And a
dynamic INT8 run that keeps the attention in float (quantizing only the FFN) is a recipe a user can queue."""
from __future__ import annotations

import numpy as np
import pytest

from core.errors import InferScopeError
from core.quantization.keep_float import kept_nodes, node_scope
from tests.conftest import FAST_TIMING


@pytest.fixture(scope="module")
def graphs(tiny_text_model, tmp_path_factory):
    """The tiny BERT exported by each exporter: {exporter: onnx GraphProto}."""
    import onnx

    from core.datasets import load_dataset
    from core.models import build_model, parse_model
    from core.settings import load_settings
    from core.techniques.base import BuildContext
    from core.techniques.onnx_export import OnnxExportConfig
    from core.techniques.onnx_export import apply as export

    settings = load_settings()
    model = build_model(parse_model(tiny_text_model), settings)
    example = model.input_spec.prepare(load_dataset("bbc-news-headlines", settings, None).evaluation, np.arange(4))
    out = {}
    for exporter in ("dynamo", "torchscript"):
        ctx = BuildContext(input_spec=model.input_spec, example=example, batch=4, calibration=lambda n: example,
                           work_dir=tmp_path_factory.mktemp(exporter))
        out[exporter] = onnx.load_from_string(export(model.artifact, OnnxExportConfig(exporter=exporter),
                                                     ctx).model_bytes).graph
    return out


def _matmul_scopes(graph, names):
    return [node_scope(n) for n in graph.node if n.name in names and n.op_type in ("MatMul", "Gemm")]


@pytest.mark.parametrize("exporter", ["dynamo", "torchscript"])
def test_groups_find_the_attention_and_the_feed_forward_whatever_the_exporter(graphs, exporter):
    graph = graphs[exporter]
    attention = _matmul_scopes(graph, kept_nodes("step", ("@attention",), graph))
    ffn = _matmul_scopes(graph, kept_nodes("step", ("@ffn",), graph))
    # 2 layers: query, key, value and output projections (the two score MatMuls too, where the exporter keeps them)
    assert len(attention) >= 8 and all("attention" in scope for scope in attention)
    assert len(ffn) == 4 and all("intermediate" in s or "output" in s for s in ffn)
    assert not set(attention) & set(ffn)
    assert not any("classifier" in s or "pooler" in s for s in attention + ffn)


def test_names_and_patterns_resolve_and_what_matches_nothing_is_refused(graphs):
    graph = graphs["torchscript"]
    name = next(n.name for n in graph.node if n.op_type == "Gemm")
    assert kept_nodes("step", (name,), graph) == (name,)
    query = "/model/bert/encoder/layer.0/attention/self/query/MatMul"
    assert query in kept_nodes("step", ("*layer.0*query*",), graph)
    assert kept_nodes("step", None, graph) == ()
    with pytest.raises(InferScopeError, match=r"ort_static_int8: keep_float \*nothing\*, @heads matches no node; .*"
                                              r"@attention, @ffn"):
        kept_nodes("ort_static_int8", ("*nothing*", "@heads", name), graph)


def test_dynamic_int8_of_only_the_feed_forward_keeps_the_attention_in_float(graphs, tmp_path):
    import onnx

    from core.artifacts import OnnxArtifact
    from core.techniques import TECHNIQUES
    from core.techniques.base import BuildContext
    from core.techniques.dynamic_int8 import OrtDynamicInt8Config

    ctx = BuildContext(input_spec=None, example=None, batch=1, calibration=None, work_dir=tmp_path)
    model = onnx.helper.make_model(graphs["torchscript"], opset_imports=[onnx.helper.make_opsetid("", 18)])
    quantized = TECHNIQUES.get("ort_dynamic_int8").apply(
        OnnxArtifact(model.SerializeToString()), OrtDynamicInt8Config(keep_float=("@attention",)), ctx)
    nodes = {n.name: n.op_type for n in onnx.load_from_string(quantized.model_bytes).graph.node}
    assert nodes["/model/bert/encoder/layer.0/attention/self/query/MatMul"] == "MatMul"  # kept in float
    assert nodes.get("/model/bert/encoder/layer.0/intermediate/dense/MatMul") != "MatMul"  # now MatMulInteger
    assert "MatMulInteger" in nodes.values()
    assert any(n.startswith("ort_dynamic_int8: MatMul/Gemm quantized, kept in float: ") and "for @attention" in n
               for n in ctx.notes)
    with pytest.raises(InferScopeError, match="keeps every MatMul/Gemm in float"):
        TECHNIQUES.get("ort_dynamic_int8").apply(OnnxArtifact(model.SerializeToString()),
                                                 OrtDynamicInt8Config(keep_float=("*",)), ctx)


def test_a_run_can_quantize_only_the_feed_forward(api, tiny_text_model):
    from core.api import RunRequest

    run = api.execute(api.submit(RunRequest(
        model=tiny_text_model, dataset="bbc-news-headlines", subset=24, batch=4, timing=dict(FAST_TIMING),
        techniques=("onnx_export", "ort_dynamic_int8:keep_float=@attention"))))
    assert run.status == "done", run.error
    assert run.recipe[-1]["config"]["keep_float"] == ["@attention"]
    assert any("kept in float" in note and "@attention" in note for note in run.notes)
