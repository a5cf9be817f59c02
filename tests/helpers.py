"""Small file makers and checks shared by tests."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np


def write_idx(path: Path, array: np.ndarray, compress: bool = True) -> None:
    magic = 2051 if array.ndim == 3 else 2049
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)


def write_fashion_mnist(folder: Path, train: int = 200, test: int = 100, seed: int = 0) -> Path:
    """A fake but well-formed Fashion-MNIST folder (random pixels, balanced labels)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, count in (("train", train), ("t10k", test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (count, 28, 28)))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", np.arange(count) % 10)
    return folder


def write_image_folder(root: Path, classes: dict[str, int], size: int = 40, seed: int = 0) -> Path:
    """Class folders of small JPEGs: {wnid: count}."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for wnid, count in classes.items():
        (root / wnid).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            pixels = rng.integers(0, 256, (size, size + 10, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / wnid / f"img_{i}.JPEG")
    return root


def brute_force_front(runs, constraints) -> list[int]:
    """Ids of the feasible runs no other feasible run dominates, by pairwise comparison (the reference)."""
    from core.explore import analysis
    from core.pareto import Direction, dominates

    ok = analysis.feasible(runs, constraints)
    value = lambda r: (r.metrics[constraints.latency], r.metrics[constraints.accuracy])  # noqa: E731
    return sorted(r.id for r in ok if not any(dominates(value(o), value(r), [Direction.MIN, Direction.MAX])
                                             for o in ok))
