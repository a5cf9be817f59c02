"""Training loops: a classifier from labels, optionally distilled from a teacher (Hinton et al. 2015)."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.datasets.base import ImageSplit
from core.inputs import InputSpec
from core.progress import Progress, time_left, with_detail


@dataclass(frozen=True)
class TrainResult:
    seconds: float
    final_loss: float
    images_seen: int


@dataclass(frozen=True)
class Distillation:
    """Hinton loss: alpha * T^2 * KL(student/T || teacher/T) + (1 - alpha) * cross-entropy."""

    teacher: Any
    temperature: float = 4.0
    alpha: float = 0.7


def split_tensors(split: ImageSplit, spec: InputSpec, limit: int | None, seed: int):
    """The whole (or the first `limit` seeded-shuffled) split as the model's prepared inputs (normalized images,
    or packed tokenized texts)."""
    import torch

    order = np.random.default_rng(seed).permutation(len(split))
    indices = np.sort(order[:limit]) if limit else np.arange(len(split))
    x = torch.from_numpy(spec.prepare(split, indices))
    y = torch.from_numpy(np.asarray(split.labels)[indices].astype(np.int64))
    return x, y


def distillation_loss(student_logits, teacher_logits, labels, distill: Distillation):
    import torch.nn.functional as F

    t = distill.temperature
    soft = F.kl_div(F.log_softmax(student_logits / t, dim=1), F.softmax(teacher_logits / t, dim=1),
                    reduction="batchmean") * (t * t)
    return distill.alpha * soft + (1 - distill.alpha) * F.cross_entropy(student_logits, labels)


def fit(module, x, y, *, epochs: int, seed: int, progress: Progress, stage: str = "train", batch_size: int = 128,
        lr: float = 3e-3, distill: Distillation | None = None,
        fit_batch: Callable[[Any], Any] | None = None) -> TrainResult:
    """AdamW with a one-cycle schedule; deterministic for a given seed and thread count. `fit_batch` reshapes each
    batch before the call (a text batch is cut to its longest text).

    No augmentation: at the few epochs that fit a 3-minute budget it slows convergence.
    """
    import torch
    import torch.nn.functional as F

    steps_per_epoch = max(1, len(x) // batch_size)
    total = epochs * steps_per_epoch
    optimizer = torch.optim.AdamW(module.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total)
    generator = torch.Generator().manual_seed(seed)
    if distill is not None:
        distill.teacher.eval()
    start, step, loss_value = time.perf_counter(), 0, float("nan")
    module.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for i in range(steps_per_epoch):
            idx = order[i * batch_size:(i + 1) * batch_size]
            inputs = fit_batch(x[idx]) if fit_batch else x[idx]
            logits = module(inputs)
            if distill is None:
                loss = F.cross_entropy(logits, y[idx])
            else:
                with torch.no_grad():
                    teacher_logits = distill.teacher(inputs)
                loss = distillation_loss(logits, teacher_logits, y[idx], distill)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            loss_value = loss.item()
            if step % 10 == 0 or step == total:
                epoch = min(epochs, step // steps_per_epoch + 1)
                left = (time.perf_counter() - start) / step * (total - step)
                progress(with_detail(stage, f"epoch {epoch} of {epochs}", f"{time_left(left)} left"), step / total)
    module.eval()
    return TrainResult(time.perf_counter() - start, loss_value, step * batch_size)


def train_classifier(module, split: ImageSplit, spec: InputSpec, *, epochs: int, seed: int,
                     limit: int | None, progress: Progress, distill: Distillation | None = None) -> TrainResult:
    """Train `module` on a labelled split (optionally distilling from a teacher)."""
    import torch

    torch.manual_seed(seed)
    x, y = split_tensors(split, spec, limit, seed)
    return fit(module, x, y, epochs=epochs, seed=seed, progress=progress, distill=distill)
