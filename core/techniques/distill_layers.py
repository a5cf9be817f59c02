"""`distill_layers`: a shallower transformer made from the first N encoder layers of the current one (its
embeddings, those layers and its head), trained on the train split to match the full model's soft targets
(Hinton loss) — the recipe behind DistilBERT-style students, with the teacher as the starting point.

The student is cached by (teacher weights, options, training texts): another run or recipe with the same teacher
reuses it instead of training again."""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from core.artifacts import TorchArtifact
from core.errors import InferScopeError
from core.files import atomic_write
from core.models.local import weights_digest
from core.options import option
from core.techniques.base import BuildContext, Explored, Technique

STUDENT_VERSION = 1  # bump when the loop changes, so old students are not reused


@dataclass(frozen=True)
class DistillLayersConfig:
    layers: int = option(3, "encoder layers the student keeps (the first ones of the teacher)", minimum=1, maximum=48)
    epochs: int = option(3, "student training epochs on the train split", minimum=1, maximum=20)
    temperature: float = option(2.0, "softens both distributions (T); the loss is scaled by T^2",
                                minimum=1.0, maximum=20.0)
    alpha: float = option(0.7, "weight of the teacher's soft targets against the labels", minimum=0.0, maximum=1.0)
    lr: float = option(1e-4, "peak learning rate (one-cycle AdamW)", minimum=1e-6, maximum=1e-2)
    seed: int = option(0, "data order", minimum=0)
    train_limit: int | None = option(None, "train on this many texts; empty = the whole train split", minimum=16)


def layer_stack(model: Any) -> tuple[str, Any]:
    """The encoder's list of layers in a Hugging Face model: the ModuleList as long as the config's layer count
    (BERT's encoder.layer, DistilBERT's transformer.layer, ...), with its dotted name."""
    from torch import nn

    config = getattr(model, "config", None)
    count = getattr(config, "num_hidden_layers", None) or getattr(config, "n_layers", None)
    stacks = [(name, module) for name, module in model.named_modules()
              if isinstance(module, nn.ModuleList) and count and len(module) == count]
    if not stacks:
        raise InferScopeError("distill_layers keeps the first layers of a Hugging Face transformer encoder, and this "
                              "model has no list of layers matching its config; use distill on an image model, or "
                              "a Hugging Face encoder (BERT, MiniLM, DistilBERT, RoBERTa)")
    return stacks[0]


def truncated(teacher_model: Any, layers: int) -> Any:
    """A copy of a Hugging Face model that keeps only its first `layers` encoder layers."""
    from torch import nn

    name, stack = layer_stack(teacher_model)
    if layers >= len(stack):
        raise InferScopeError(f"distill_layers: the model has {len(stack)} encoder layers, so a student of {layers} "
                              f"is not smaller; choose layers below {len(stack)}")
    student = copy.deepcopy(teacher_model)
    parent_name, _, attribute = name.rpartition(".")
    parent = student.get_submodule(parent_name) if parent_name else student
    setattr(parent, attribute, nn.ModuleList(list(getattr(parent, attribute))[:layers]))
    for field in ("num_hidden_layers", "n_layers"):
        if hasattr(student.config, field):
            setattr(student.config, field, layers)
    return student


def cache_key(teacher: Any, config: DistillLayersConfig, x: np.ndarray, y: np.ndarray) -> str:
    data = hashlib.sha256(np.ascontiguousarray(x).tobytes() + np.ascontiguousarray(y).tobytes()).hexdigest()[:16]
    fields = {**asdict(config), "teacher": weights_digest(teacher), "data": data, "version": STUDENT_VERSION}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def apply(artifact: TorchArtifact, config: DistillLayersConfig, ctx: BuildContext) -> TorchArtifact:
    import torch

    from core.models.text import packed_classifier
    from core.models.training import Distillation, fit

    teacher = artifact.module.eval()
    inner = getattr(teacher, "model", None)
    if inner is None or not hasattr(inner, "config") or not hasattr(teacher, "input_names"):
        raise InferScopeError("distill_layers keeps the first layers of a transformer text classifier; this model is "
                              "not one — use distill for image models")
    if ctx.train is None:
        raise InferScopeError("distill_layers trains on the dataset's train split, and this dataset has none; use "
                              "bbc-news or bbc-news-headlines")
    x, y = ctx.train(config.train_limit)
    student_model = truncated(inner, config.layers)
    student = packed_classifier(student_model, teacher.input_names)
    key = cache_key(teacher, config, x, y)
    path = ctx.settings.models_dir / "text" / f"student-{key}.pt" if ctx.settings is not None else None
    teacher_params = sum(p.numel() for p in teacher.parameters())
    if path is not None and path.is_file():
        try:
            student_model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            ctx.notes.append(f"distill_layers: cached {config.layers}-layer student of the "
                             f"{teacher_params:,}-parameter teacher reused")
            return TorchArtifact(student.eval())
        except Exception as exc:  # a damaged cache is trained again, never trusted
            ctx.notes.append(f"distill_layers: cached student unreadable ({exc}); trained again")
    torch.manual_seed(config.seed)
    with torch.enable_grad():
        result = fit(student, torch.from_numpy(x), torch.from_numpy(y), epochs=config.epochs, seed=config.seed,
                     progress=ctx.progress, stage="distill_layers", batch_size=ctx.input_spec.retrain_batch,
                     lr=config.lr, distill=Distillation(teacher, config.temperature, config.alpha),
                     fit_batch=ctx.input_spec.retrain_fit)
    if path is not None:
        atomic_write(path, lambda p: torch.save(student_model.state_dict(), p))
    student_params = sum(p.numel() for p in student.parameters())
    ctx.notes.append(f"distill_layers: first {config.layers} of {len(layer_stack(inner)[1])} encoder layers "
                     f"({student_params:,} of {teacher_params:,} parameters) trained on {len(x):,} train "
                     f"{ctx.input_spec.item}s to match the teacher for {config.epochs} epoch(s) in "
                     f"{result.seconds:.0f} s (T={config.temperature}, alpha={config.alpha})")
    return TorchArtifact(student.eval())


TECHNIQUE = Technique(
    name="distill_layers", summary="a shallower transformer: the first N encoder layers, distilled from the full one",
    config_cls=DistillLayersConfig, accepts=frozenset({"torch"}), apply=apply, needs_train_split=lambda config: True,
    explore=Explored("distill", ("distill_layers:layers=3",), starts=frozenset({"torch"})))
