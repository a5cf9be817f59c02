"""`distill`: train a smaller registered architecture from the current model's soft targets (Hinton 2015)."""
from __future__ import annotations

from dataclasses import dataclass

from core.artifacts import TorchArtifact
from core.errors import InferScopeError
from core.models import local
from core.models.local_archs import ARCHITECTURES
from core.options import option
from core.techniques.base import BuildContext, Technique


@dataclass(frozen=True)
class DistillConfig:
    student: str = option("lenet5", "the smaller architecture that learns from the current model",
                          choices=tuple(ARCHITECTURES))
    epochs: int = option(3, "student training epochs on the train split", minimum=1, maximum=100)
    temperature: float = option(4.0, "softens both distributions (T); the loss is scaled by T^2",
                                minimum=1.0, maximum=20.0)
    alpha: float = option(0.7, "weight of the teacher's soft targets against the labels", minimum=0.0, maximum=1.0)
    seed: int = option(0, "student initialization and data order", minimum=0)
    train_limit: int | None = option(None, "train on this many images; empty = the whole train split", minimum=64)


def apply(artifact: TorchArtifact, config: DistillConfig, ctx: BuildContext) -> TorchArtifact:
    if ctx.input_spec != local.INPUT_SPEC or ctx.settings is None:
        raise InferScopeError("distill trains Fashion-MNIST students (1x28x28 grey, 10 classes); the teacher here "
                              "takes other inputs — distill a local model on fashion-mnist")
    teacher = artifact.module.eval()
    # The student is cached by (architecture, options, teacher weights): a later run or another
    # recipe with the same teacher reuses it instead of training again.
    options = local.LocalOptions(epochs=config.epochs, seed=config.seed, train_limit=config.train_limit,
                                 teacher=ctx.model_name, temperature=config.temperature, alpha=config.alpha)
    student, record = local.train_or_load(config.student, options, ctx.settings, ctx.progress, teacher_module=teacher)
    ctx.notes.append(f"distill: {config.student} student ({record['test_top1']}% top-1 on the full test split) "
                     f"from a {sum(p.numel() for p in teacher.parameters()):,}-parameter teacher, "
                     f"T={config.temperature}, alpha={config.alpha}, {config.epochs} epoch(s)")
    unchanged_teacher = ctx.reference is not None and local.weights_digest(ctx.reference) == local.weights_digest(teacher)
    if unchanged_teacher and ":" not in ctx.model_name:
        ctx.notes.append(f"the student is cached: use it as a model with --model "
                         f"{config.student}:teacher={ctx.model_name},epochs={config.epochs}"
                         + (f",seed={config.seed}" if config.seed else "")
                         + (f",train_limit={config.train_limit}" if config.train_limit else ""))
    return TorchArtifact(student.eval())


TECHNIQUE = Technique(
    name="distill", summary="knowledge distillation into a smaller registered architecture (Hinton loss)",
    config_cls=DistillConfig, accepts=frozenset({"torch"}), apply=apply, needs_train_split=lambda config: True)
