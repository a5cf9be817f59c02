"""`onnx_export`: torch -> one self-contained ONNX file (dynamo or TorchScript exporter) with a dynamic batch (and
sequence, for text models)."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from core.artifacts import OnnxArtifact, TorchArtifact
from core.errors import InferScopeError
from core.inputs import feeds
from core.options import option
from core.techniques.base import BuildContext, Explored, Technique

EXPORTERS = ("dynamo", "torchscript")


@dataclass(frozen=True)
class OnnxExportConfig:
    opset: int | None = option(None, "ONNX opset; empty = the exporter's default", minimum=17, maximum=23)
    dynamic_batch: bool = option(True, "let the exported graph take any batch size")
    exporter: str = option("dynamo", "dynamo: torch.export's exporter (torch's default); torchscript: the TorchScript "
                                     "exporter, with a transformer's attention in its eager form — the graph on which "
                                     "onnxruntime's transformer optimizer fuses Attention", choices=EXPORTERS)


SEQUENCE_MAX = 4096  # the longest sequence an exported text graph accepts (its position table may allow fewer)


def named_inputs_module(classifier):
    """A packed-input text classifier (core.models.text) as a module of its named inputs, the graph users feed."""
    from torch import nn

    class NamedInputs(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = classifier.model
            self.names = classifier.input_names

        def forward(self, *inputs):
            return self.model(**dict(zip(self.names, inputs, strict=True))).logits

    return NamedInputs()


def export_bytes(module, example: np.ndarray, config: OnnxExportConfig, batch: int) -> bytes:
    """Export `module` with torch.onnx's dynamo exporter into one in-memory ONNX protobuf.

    A fixed-batch export takes `batch`; a dynamic one is traced at batch 2, since torch.export
    specializes a dimension traced at size 1.
    """
    import onnx
    import torch

    sample = np.repeat(example[:1], 2 if config.dynamic_batch else batch, axis=0)
    batch_axis = {0: torch.export.Dim("batch", min=1, max=65536)} if config.dynamic_batch else {}
    names = getattr(module, "input_names", None)
    if names:  # a text classifier: the graph takes the model's named inputs, any sequence length
        module = named_inputs_module(module).eval()
        args = tuple(torch.from_numpy(v) for v in feeds(list(names), sample).values())
        sequence = {1: torch.export.Dim("sequence", min=2, max=SEQUENCE_MAX)}
        dynamic = (tuple({**batch_axis, **sequence} for _ in names),)  # one entry: the forward's *inputs
    else:
        names, args, dynamic = ["input"], (torch.from_numpy(sample),), (batch_axis,) if batch_axis else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if config.exporter == "torchscript":
            model = _torchscript_export(module, args, list(names), config, dynamic is not None, len(names) > 1)
        else:
            program = torch.onnx.export(module, args, dynamo=True, external_data=False, opset_version=config.opset,
                                        dynamic_shapes=dynamic, input_names=list(names), output_names=["logits"],
                                        verbose=False)
            model = program.model_proto
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _torchscript_export(module, args, names: list[str], config: OnnxExportConfig, dynamic_batch: bool,
                        text: bool):
    """The TorchScript exporter's graph; a transformer is traced with its attention in the eager form (a Softmax
    between two MatMuls) — the pattern onnxruntime's transformer fusion recognises — then restored."""
    import io

    import onnx
    import torch

    axes = {0: "batch"} if dynamic_batch else {}
    dynamic_axes = {name: {**axes, **({1: "sequence"} if text else {})} for name in names}
    model = getattr(module, "model", None)
    attention = getattr(getattr(model, "config", None), "_attn_implementation", None)
    buffer = io.BytesIO()
    try:
        if attention is not None and attention != "eager":
            model.set_attn_implementation("eager")
        # Its constant folding computes a wrong graph for transformers 5's BERT (logits off by half their size,
        # measured here): off, the graph is exact, and onnxruntime folds constants itself when it loads it.
        torch.onnx.export(module, args, buffer, dynamo=False, opset_version=config.opset or 17, input_names=names,
                          output_names=["logits"], dynamic_axes=dynamic_axes or None, do_constant_folding=False)
    finally:
        if attention is not None and attention != "eager":
            model.set_attn_implementation(attention)
    return fold_weight_transposes(onnx.load_from_string(buffer.getvalue()))


def fold_weight_transposes(model):
    """Replace each Transpose of a constant weight by the transposed weight. Without torch's constant folding a
    Linear's weight reaches its MatMul through a Transpose, and a quantizer that quantizes constant weights only
    (onnxruntime's dynamic INT8) would leave every such MatMul in float without a word."""
    from onnx import numpy_helper

    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    uses: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            uses[name] = uses.get(name, 0) + 1
    folded = []
    for node in graph.node:
        if node.op_type != "Transpose" or node.input[0] not in weights:
            continue
        perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None)
        array = numpy_helper.to_array(weights[node.input[0]])
        graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(np.transpose(array, perm)),
                                                         node.output[0]))
        if uses[node.input[0]] == 1:
            graph.initializer.remove(weights[node.input[0]])
        folded.append(node)
    for node in folded:
        graph.node.remove(node)
    return model


def apply(artifact: TorchArtifact, config: OnnxExportConfig, ctx: BuildContext) -> OnnxArtifact:
    import onnxruntime as ort
    import torch

    module = artifact.module
    model_bytes = export_bytes(module, ctx.example, config, ctx.batch)
    # Check the exported graph against torch on real inputs: an exporter bug must not pass silently.
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    sample = ctx.example if config.dynamic_batch else np.resize(ctx.example, (ctx.batch, *ctx.example.shape[1:]))
    with torch.inference_mode():
        expected = module(torch.from_numpy(sample)).float().numpy()
    got = session.run(None, feeds([i.name for i in session.get_inputs()], sample))[0]
    error = float(np.max(np.abs(expected - got)))
    scale = float(np.max(np.abs(expected))) or 1.0
    if error > 1e-3 * max(1.0, scale):
        raise InferScopeError(f"onnx_export: the ONNX graph differs from the torch model by up to {error:.3g} "
                              "on the subset; the model uses an operation the exporter translates wrongly")
    ctx.notes.append(f"onnx_export: max |torch - onnx| = {error:.2e} on {len(sample)} {ctx.input_spec.item}s")
    return OnnxArtifact(model_bytes)


TECHNIQUE = Technique(
    name="onnx_export", summary="export to ONNX (dynamo exporter, one file, dynamic batch), checked against torch",
    config_cls=OnnxExportConfig, accepts=frozenset({"torch"}), produces="onnx", apply=apply,
    fixes_batch=lambda config: not config.dynamic_batch, lossless=lambda config: True,
    # a text model is also offered the TorchScript exporter: on its graph onnxruntime fuses attention
    explore=Explored("export", starts=frozenset({"torch"}), extra=(("text", ("onnx_export:exporter=torchscript",)),)))
