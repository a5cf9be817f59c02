"""Training a small classifier on a dataset's train split (used by the `local` model source)."""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from core.datasets.base import ImageSplit
from core.inputs import InputSpec, preprocess
from core.progress import Progress


@dataclass(frozen=True)
class TrainResult:
    seconds: float
    final_loss: float
    images_seen: int


def split_tensors(split: ImageSplit, spec: InputSpec, limit: int | None, seed: int):
    """The whole (or the first `limit` seeded-shuffled) split as normalized tensors."""
    import torch

    order = np.random.default_rng(seed).permutation(len(split))
    indices = np.sort(order[:limit]) if limit else np.arange(len(split))
    x = torch.from_numpy(preprocess(split.images(indices), spec))
    y = torch.from_numpy(np.asarray(split.labels)[indices].astype(np.int64))
    return x, y


def train_classifier(module, split: ImageSplit, spec: InputSpec, *, epochs: int, seed: int,
                     limit: int | None, batch_size: int = 128, lr: float = 3e-3,
                     progress: Progress) -> TrainResult:
    """AdamW with a one-cycle schedule; deterministic for a given seed and thread count.

    No augmentation: at the few epochs that fit a 3-minute budget it slows convergence.
    """
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    x, y = split_tensors(split, spec, limit, seed)
    steps_per_epoch = max(1, len(x) // batch_size)
    total = epochs * steps_per_epoch
    optimizer = torch.optim.AdamW(module.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total)
    generator = torch.Generator().manual_seed(seed)
    start, step, loss_value = time.perf_counter(), 0, float("nan")
    module.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for i in range(steps_per_epoch):
            idx = order[i * batch_size:(i + 1) * batch_size]
            loss = F.cross_entropy(module(x[idx]), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            loss_value = loss.item()
            if step % 10 == 0 or step == total:
                progress("train", step / total)
    module.eval()
    return TrainResult(time.perf_counter() - start, loss_value, step * batch_size)
