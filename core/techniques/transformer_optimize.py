"""`transformer_optimize`: onnxruntime's transformer graph optimizer (`onnxruntime.transformers.optimizer`), which
fuses a transformer's subgraphs into ONNX Runtime's contrib operators (Attention, EmbedLayerNormalization,
SkipLayerNormalization, BiasGelu…). The run stores the count of each fused operator, and says why when Attention
did not fuse — the fusion skips a pattern it does not recognise without a word, which is how a graph exported by
torch's default (dynamo) exporter loses it."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.artifacts import OnnxArtifact
from core.errors import InferScopeError
from core.options import option
from core.techniques.base import BuildContext, Explored, Technique
from core.techniques.scoring import onnx_logits

MODEL_TYPES = ("bert", "bart", "gpt2", "t5", "vit")
OPT_LEVELS = (0, 1, 2, 99)
ATTENTION_OPS = ("Attention", "MultiHeadAttention", "PackedAttention", "PackedMultiHeadAttention")
NOT_FUSED_WHY = ("onnxruntime's fusion recognises attention written as MatMul → scale → mask → Softmax → MatMul; "
                 "torch's default (dynamo) exporter and the SDPA attention write it otherwise. Export with "
                 "onnx_export:exporter=torchscript (it traces the eager attention), then optimize")


@dataclass(frozen=True)
class TransformerOptimizeConfig:
    model_type: str = option("bert", "the architecture family whose fusions apply (BERT covers MiniLM, RoBERTa, "
                                     "DistilBERT)", choices=MODEL_TYPES)
    opt_level: int = option(0, "onnxruntime graph optimizations baked into the file as well (0: fusions only; the "
                                "session optimizes the rest when it loads)", choices=OPT_LEVELS)


def fused_operators(model: Any) -> dict[str, int]:
    """The optimizer's count of each fused operator, those it found only."""
    return {name: int(count) for name, count in model.get_fused_operator_statistics().items() if count}


def _heads_and_hidden(ctx: BuildContext) -> tuple[int, int]:
    """The attention heads and width the fusion needs: what transformer_prune left earlier in the recipe, else the
    model's config (0, 0: detect them)."""
    pruned = ctx.findings.get("transformer_prune")
    if pruned:
        return pruned["heads"], pruned["attention_width"]
    config = getattr(getattr(ctx.reference, "model", None), "config", None)
    return (getattr(config, "num_attention_heads", 0) or 0, getattr(config, "hidden_size", 0) or 0)


def apply(artifact: OnnxArtifact, config: TransformerOptimizeConfig, ctx: BuildContext) -> OnnxArtifact:
    import onnx
    from onnxruntime.transformers import optimizer

    source = ctx.work_dir / "unfused.onnx"
    source.write_bytes(artifact.model_bytes)
    heads, hidden = _heads_and_hidden(ctx)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimized = optimizer.optimize_model(str(source), model_type=config.model_type, num_heads=heads,
                                             hidden_size=hidden, opt_level=config.opt_level, use_gpu=False)
    fused = fused_operators(optimized)
    if fused and not any(op.domain == "com.microsoft" for op in optimized.model.opset_import):
        # the fused operators live in onnxruntime's own domain, which a graph fused from scratch does not import yet
        optimized.model.opset_import.append(onnx.helper.make_opsetid("com.microsoft", 1))
    model_bytes = optimized.model.SerializeToString()
    # The fused graph must compute what its source did, on real inputs: a fusion that changes the numbers must fail.
    expected, got = onnx_logits(artifact.model_bytes, ctx.example, len(ctx.example)), \
        onnx_logits(model_bytes, ctx.example, len(ctx.example))
    error = float(np.max(np.abs(expected - got)))
    if error > 1e-2 * max(1.0, float(np.max(np.abs(expected)))):
        raise InferScopeError(f"transformer_optimize: the fused graph differs from its source by up to {error:.3g}; "
                              "try another model_type")
    attention = sum(fused.get(op, 0) for op in ATTENTION_OPS)
    ctx.findings["transformer_optimize"] = {"fused": fused, "attention_fused": attention > 0,
                                            "why_not": None if attention else NOT_FUSED_WHY}
    words = ", ".join(f"{name} {count}" for name, count in fused.items()) or "nothing"
    ctx.notes.append(f"transformer_optimize: fused {words} (max |source - fused| = {error:.2e})")
    if not attention:
        ctx.notes.append(f"transformer_optimize: Attention was not fused: {NOT_FUSED_WHY}")
    return OnnxArtifact(model_bytes, session=dict(artifact.session), response_cache=artifact.response_cache)


TECHNIQUE = Technique(
    name="transformer_optimize", summary="onnxruntime's transformer optimizer: fuses attention, layer norms and GELU "
    "into ONNX Runtime's own operators; the run counts each fusion", config_cls=TransformerOptimizeConfig,
    accepts=frozenset({"onnx"}), apply=apply, lossless=lambda config: True, explore=Explored("optimize"))
