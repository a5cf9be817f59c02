"""`unstructured_prune` (L1 magnitude, torch.nn.utils.prune) and `structured_prune` (channels, torch-pruning)."""
from __future__ import annotations

from dataclasses import dataclass

from core.artifacts import TorchArtifact
from core.options import option
from core.techniques.base import BuildContext, Explored, Technique
from core.techniques.recovery import (
    RECOVERY_CHOICES,
    needs_train_split,
    recover,
    recovery_caution,
)

IMPORTANCE = ("l1", "l2", "lamp", "random")


@dataclass(frozen=True)
class UnstructuredPruneConfig:
    ratio: float = option(0.5, "share of conv/linear weights set to zero (smallest |w| across the model)",
                          minimum=0.01, maximum=0.99)
    recovery: str = option("none", "recover accuracy after pruning", choices=RECOVERY_CHOICES)
    recovery_epochs: int = option(1, "epochs of recovery training", minimum=1, maximum=50, requires="recovery")
    recovery_limit: int | None = option(None, "recovery trains on this many train examples; empty = all", minimum=64,
                                        requires="recovery")


@dataclass(frozen=True)
class StructuredPruneConfig:
    ratio: float = option(0.3, "share of channels removed from each prunable layer", minimum=0.01, maximum=0.9)
    importance: str = option("l2", "how channels are ranked before removal", choices=IMPORTANCE)
    recovery: str = option("none", "recover accuracy after pruning", choices=RECOVERY_CHOICES)
    recovery_epochs: int = option(1, "epochs of recovery training", minimum=1, maximum=50, requires="recovery")
    recovery_limit: int | None = option(None, "recovery trains on this many train examples; empty = all", minimum=64,
                                        requires="recovery")


def _prunable(module):
    from torch import nn

    return [(m, "weight") for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def sparsity(module) -> float:
    """Share of exactly-zero weights in conv and linear layers."""
    zeros = total = 0
    for layer, _ in _prunable(module):
        zeros += int((layer.weight == 0).sum())
        total += layer.weight.numel()
    return zeros / total if total else 0.0


def apply_unstructured(artifact: TorchArtifact, config: UnstructuredPruneConfig, ctx: BuildContext) -> TorchArtifact:
    from torch.nn.utils import prune

    module = artifact.module
    targets = _prunable(module)
    prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=config.ratio)
    for layer, name in targets:
        prune.remove(layer, name)  # bake the mask into the weights
    note = recover(module, config, ctx, "unstructured_prune")
    # Recovery training moves zeros; prune again so the reported sparsity is what runs.
    if note:
        prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=config.ratio)
        for layer, name in targets:
            prune.remove(layer, name)
    ctx.notes.append(f"unstructured_prune: {sparsity(module):.1%} of conv/linear weights are zero; dense kernels "
                     "still multiply the zeros, so expect no speedup (the weights also compress no smaller here)")
    if note:
        ctx.notes.append(note)
    return TorchArtifact(module.eval(), artifact.channels_last)


def _classifier(module):
    from torch import nn

    linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
    return linears[-1:] if linears else []


def apply_structured(artifact: TorchArtifact, config: StructuredPruneConfig, ctx: BuildContext) -> TorchArtifact:
    import torch
    import torch_pruning as tp

    module = artifact.module
    example = torch.from_numpy(ctx.example[:1])
    importance = {"l1": lambda: tp.importance.MagnitudeImportance(p=1),
                  "l2": lambda: tp.importance.MagnitudeImportance(p=2),
                  "lamp": lambda: tp.importance.LAMPImportance(p=2),
                  "random": lambda: tp.importance.RandomImportance()}[config.importance]()
    with torch.no_grad():
        macs_before, params_before = tp.utils.count_ops_and_params(module, example)
    pruner = tp.pruner.MetaPruner(module, example, importance=importance, pruning_ratio=config.ratio,
                                  ignored_layers=_classifier(module))  # the classifier keeps every class
    pruner.step()
    with torch.no_grad():
        macs_after, params_after = tp.utils.count_ops_and_params(module, example)
    ctx.notes.append(f"structured_prune: parameters {params_before:,.0f} -> {params_after:,.0f} "
                     f"({params_after / params_before:.0%}), FLOPs {2 * macs_before / 1e6:,.1f} M -> "
                     f"{2 * macs_after / 1e6:,.1f} M ({macs_after / macs_before:.0%})")
    note = recover(module, config, ctx, "structured_prune")
    if note:
        ctx.notes.append(note)
    return TorchArtifact(module.eval(), artifact.channels_last)


# A pruned model recovers by fine-tuning one epoch on at most 10,000 train images when an exploration tries it.
RECOVERY = "recovery=finetune,recovery_epochs=1,recovery_limit=10000"
UNSTRUCTURED = Technique(
    name="unstructured_prune", summary="L1 magnitude pruning to a sparsity (no speedup on dense kernels)",
    config_cls=UnstructuredPruneConfig, accepts=frozenset({"torch"}), apply=apply_unstructured,
    needs_train_split=needs_train_split, caution=recovery_caution("unstructured_prune"))
STRUCTURED = Technique(
    name="structured_prune", summary="channel pruning with torch-pruning: a smaller dense model",
    config_cls=StructuredPruneConfig, accepts=frozenset({"torch"}), apply=apply_structured,
    needs_train_split=needs_train_split, caution=recovery_caution("structured_prune"),
    explore=Explored("prune", (f"structured_prune:ratio=0.25,{RECOVERY}", f"structured_prune:ratio=0.5,{RECOVERY}"),
                     starts=frozenset({"torch"})))
