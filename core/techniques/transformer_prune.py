"""`transformer_prune`: structured pruning of a BERT-family encoder — whole attention heads and whole FFN neurons
removed from every layer by weight magnitude, so the model's matrices are smaller and dense kernels run fewer
multiply-adds (unlike unstructured pruning's zeros).

Written here on transformers' own `prune_linear_layer` rather than torch-pruning: torch-pruning traces the model and
cannot follow the heads of transformers 5's attention (it reshapes by head size with -1 heads), and transformers 5
dropped `prune_heads`. The rule is the one those tools use: a head is ranked by the L2 norm of its query, key and
value rows and its output-projection columns, an FFN neuron by the norm of its input row and output column; each
layer keeps the same number of heads, so the graph optimizer can still fuse attention."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from core.artifacts import TorchArtifact
from core.errors import InferScopeError, RecipeError
from core.options import option
from core.techniques.base import BuildContext, Explored, Technique
from core.techniques.distill_layers import layer_stack
from core.techniques.recovery import (
    RECOVERY_CHOICES,
    needs_train_split,
    recover,
    recovery_caution,
)

LAYOUT = "attention.self.query/key/value, attention.output.dense, intermediate.dense and output.dense"


@dataclass(frozen=True)
class TransformerPruneConfig:
    heads: float = option(0.25, "share of attention heads removed from each layer (0: keep them all)",
                          minimum=0.0, maximum=0.9)
    ffn: float = option(0.25, "share of feed-forward neurons removed from each layer (0: keep them all)",
                        minimum=0.0, maximum=0.9)
    recovery: str = option("finetune", "recover accuracy after pruning", choices=RECOVERY_CHOICES)
    recovery_epochs: int = option(1, "epochs of recovery training", minimum=1, maximum=50, requires="recovery")
    recovery_limit: int | None = option(None, "recovery trains on this many train examples; empty = all", minimum=64,
                                        requires="recovery")


@dataclass(frozen=True)
class PrunedShape:
    """What pruning left: heads per layer (of how many), FFN width (of how many), parameters before and after."""

    heads: int
    heads_before: int
    head_size: int
    ffn: int
    ffn_before: int
    params_before: int
    params_after: int


def _layers(model: Any) -> list[Any]:
    """The encoder layers, each with BERT's layout, or a refusal that names the layout this step knows."""
    _, stack = layer_stack(model)
    for layer in stack:
        attention = getattr(layer, "attention", None)
        own = getattr(attention, "self", None)
        if not all(hasattr(own, name) for name in ("query", "key", "value", "attention_head_size")) \
                or not hasattr(getattr(attention, "output", None), "dense") \
                or not hasattr(getattr(layer, "intermediate", None), "dense") \
                or not hasattr(getattr(layer, "output", None), "dense"):
            raise InferScopeError(f"transformer_prune knows BERT-family layers ({LAYOUT}: BERT, MiniLM, RoBERTa, "
                                  f"ELECTRA), and this model's layers are {type(layer).__name__}; use distill_layers "
                                  "for a shallower model, or unstructured_prune")
    return list(stack)


def _keep(scores: Any, share: float) -> Any:
    """Indices of the highest-scoring units after removing `share` of them (at least one stays), in order."""
    import torch

    count = max(1, len(scores) - math.floor(share * len(scores)))
    return torch.sort(torch.topk(scores, count).indices).values


def _prune_heads(layer: Any, share: float) -> int:
    import torch
    from transformers.pytorch_utils import prune_linear_layer

    own, projection = layer.attention.self, layer.attention.output
    size = own.attention_head_size
    heads = own.query.out_features // size
    rows = lambda weight: weight.detach().reshape(heads, size, -1).pow(2).sum(dim=(1, 2))  # noqa: E731
    scores = rows(own.query.weight) + rows(own.key.weight) + rows(own.value.weight) \
        + projection.dense.weight.detach().t().reshape(heads, size, -1).pow(2).sum(dim=(1, 2))
    kept = _keep(scores.sqrt(), share)
    index = (kept[:, None] * size + torch.arange(size)[None, :]).reshape(-1)
    own.query, own.key, own.value = (prune_linear_layer(own.query, index), prune_linear_layer(own.key, index),
                                     prune_linear_layer(own.value, index))
    projection.dense = prune_linear_layer(projection.dense, index, dim=1)
    own.num_attention_heads, own.all_head_size = len(kept), len(kept) * size
    return len(kept)


def _prune_ffn(layer: Any, share: float) -> int:
    from transformers.pytorch_utils import prune_linear_layer

    inner, outer = layer.intermediate.dense, layer.output.dense
    scores = (inner.weight.detach().pow(2).sum(dim=1) + outer.weight.detach().pow(2).sum(dim=0)).sqrt()
    kept = _keep(scores, share)
    layer.intermediate.dense = prune_linear_layer(inner, kept)
    layer.output.dense = prune_linear_layer(outer, kept, dim=1)
    return len(kept)


def prune(model: Any, heads: float, ffn: float) -> PrunedShape:
    """Remove `heads` of each layer's attention heads and `ffn` of its FFN neurons from a Hugging Face BERT-family
    model, in place; the config is updated so the model saves and reloads at its new shape."""
    layers = _layers(model)
    params_before = sum(p.numel() for p in model.parameters())
    first = layers[0]
    heads_before = first.attention.self.query.out_features // first.attention.self.attention_head_size
    ffn_before = first.intermediate.dense.out_features
    kept_heads, kept_ffn = heads_before, ffn_before
    for layer in layers:
        if heads:
            kept_heads = _prune_heads(layer, heads)
        if ffn:
            kept_ffn = _prune_ffn(layer, ffn)
    model.config.intermediate_size = kept_ffn
    return PrunedShape(kept_heads, heads_before, first.attention.self.attention_head_size, kept_ffn, ffn_before,
                       params_before, sum(p.numel() for p in model.parameters()))


def check(config: TransformerPruneConfig, kind: str, runtime: Any) -> None:
    if not config.heads and not config.ffn:
        raise RecipeError("transformer_prune: heads and ffn are both 0, so nothing would be removed; set heads or "
                          "ffn above 0")


def apply(artifact: TorchArtifact, config: TransformerPruneConfig, ctx: BuildContext) -> TorchArtifact:
    module = artifact.module
    inner = getattr(module, "model", None)
    if inner is None or not hasattr(inner, "config"):
        raise InferScopeError("transformer_prune removes attention heads and FFN neurons of a transformer text "
                              "classifier; this model is not one — use structured_prune for image models")
    shape = prune(inner, config.heads, config.ffn)
    # the graph optimizer fuses attention with the heads the pruned layers have, not the original config's
    ctx.findings["transformer_prune"] = {"heads": shape.heads, "heads_before": shape.heads_before,
                                         "attention_width": shape.heads * shape.head_size,
                                         "ffn": shape.ffn, "ffn_before": shape.ffn_before}
    ctx.notes.append(f"transformer_prune: heads {shape.heads_before} -> {shape.heads} and FFN neurons "
                     f"{shape.ffn_before:,} -> {shape.ffn:,} per layer; parameters {shape.params_before:,} -> "
                     f"{shape.params_after:,} ({shape.params_after / shape.params_before:.0%})")
    note = recover(module, config, ctx, "transformer_prune")
    if note:
        ctx.notes.append(note)
    return TorchArtifact(module.eval(), artifact.channels_last)


RECOVERY = "recovery=finetune,recovery_epochs=1"
TECHNIQUE = Technique(
    name="transformer_prune",
    summary="structured pruning of a transformer: whole attention heads and FFN neurons, a smaller dense model",
    config_cls=TransformerPruneConfig, accepts=frozenset({"torch"}), apply=apply, check=check,
    needs_train_split=needs_train_split, caution=recovery_caution("transformer_prune"),
    explore=Explored("prune", (f"transformer_prune:heads=0.25,ffn=0.25,{RECOVERY}",
                               f"transformer_prune:heads=0.5,ffn=0.5,{RECOVERY}"), starts=frozenset({"torch"})))
