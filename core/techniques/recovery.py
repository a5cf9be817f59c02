"""Recovering accuracy after pruning: fine-tuning, or distillation from the unpruned model."""
from __future__ import annotations

from typing import Any

from core.errors import InferScopeError
from core.techniques.base import BuildContext

RECOVERY_CHOICES = ("none", "finetune", "distill")


def needs_train_split(config: Any) -> bool:
    return config.recovery != "none"


def recovery_caution(name: str) -> Any:
    """The caution of a pruning step that does not recover: pruned weights without training cost most of the
    accuracy (structured_prune at ratio 0.3 on resnet8: 22.2% top-1 against 92.0% in FP32, measured)."""
    def caution(config: Any) -> str | None:
        if config.recovery != "none":
            return None
        return (f"{name} without recovery: pruning alone usually costs most of the accuracy (structured_prune at "
                "ratio 0.3 left resnet8 at 22.2% top-1 against 92.0% in FP32); set recovery to finetune or distill "
                "to keep the model useful")
    return caution


def recover(module, config: Any, ctx: BuildContext, name: str) -> str | None:
    """Train the pruned `module` in place for `config.recovery_epochs` on the train split; returns a note."""
    import torch

    from core.models.training import Distillation, fit

    if config.recovery == "none":
        return None
    if ctx.train is None:
        raise InferScopeError(f"{name}: recovery={config.recovery} trains on the dataset's train split, and this "
                              "dataset has none; use one that has (fashion-mnist, bbc-news) or set recovery=none")
    x, y = ctx.train(config.recovery_limit)
    distill = None
    if config.recovery == "distill":
        if ctx.reference is None:
            raise InferScopeError(f"{name}: recovery=distill needs the unpruned model as the teacher")
        distill = Distillation(ctx.reference)
    torch.manual_seed(0)
    with torch.enable_grad():
        fit(module, torch.from_numpy(x), torch.from_numpy(y), epochs=config.recovery_epochs, seed=0,
            progress=ctx.progress, stage=name, batch_size=ctx.input_spec.retrain_batch, lr=ctx.input_spec.retrain_lr,
            distill=distill, fit_batch=ctx.input_spec.retrain_fit)
    return (f"{name}: recovered with {config.recovery} for {config.recovery_epochs} epoch(s) on {len(x)} train "
            f"{ctx.input_spec.item}s")
