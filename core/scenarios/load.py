"""The seeded load generator: Poisson arrival times and the query stream over the subset."""
from __future__ import annotations

import math
import threading

import numpy as np

# Raw request batches are views into the subset; prepared (device) copies are kept up to this size.
PREPARED_POOL_BYTES = 256 * 1024 ** 2


def arrival_times(rate: float, count: int, seed: int) -> np.ndarray:
    """Seconds from the start at which `count` requests arrive: a Poisson process at `rate` per second."""
    gaps = np.random.default_rng(seed).exponential(1.0 / rate, size=count)
    return np.cumsum(gaps)


def request_pool(images: np.ndarray, batch: int) -> list[np.ndarray]:
    """The distinct requests of a subset: consecutive batches, the last one filled up from the start."""
    count = math.ceil(len(images) / batch)
    pool = []
    for i in range(count):
        chunk = images[i * batch:(i + 1) * batch]
        if len(chunk) < batch:
            chunk = np.concatenate([chunk, np.resize(images, (batch - len(chunk), *images.shape[1:]))])
        pool.append(np.ascontiguousarray(chunk))
    return pool


class QueryStream:
    """Which pool request the i-th query sends, seeded and reproducible.

    With `repeat_ratio` r, each query repeats an earlier one with probability r, chosen by a Zipf law
    over the order in which requests first appeared (the earliest are the most popular); otherwise
    it is the next unseen request of a seeded permutation (the pool cycles once it is used up).
    r = 0 cycles the pool in a fixed shuffled order.
    """

    def __init__(self, pool_size: int, repeat_ratio: float = 0.0, zipf_exponent: float = 1.2, seed: int = 0) -> None:
        if pool_size < 1:
            raise ValueError("a query stream needs at least one request")
        self.pool_size, self.repeat_ratio, self.zipf_exponent = pool_size, repeat_ratio, zipf_exponent
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(pool_size)
        self._seen: list[int] = []
        self._is_seen = np.zeros(pool_size, dtype=bool)
        self._fresh = 0
        self._queries: list[int] = []
        self._lock = threading.Lock()

    def __getitem__(self, i: int) -> int:
        if i >= len(self._queries):
            with self._lock:
                while len(self._queries) <= i:
                    self._queries.append(self._next())
        return self._queries[i]

    def take(self, count: int) -> list[int]:
        self[count - 1]
        return self._queries[:count]

    def _next(self) -> int:
        if self._seen and self.repeat_ratio > 0 and self._rng.random() < self.repeat_ratio:
            return self._seen[self._zipf_rank(len(self._seen)) - 1]
        index = int(self._order[self._fresh % self.pool_size])
        self._fresh += 1
        if not self._is_seen[index]:
            self._is_seen[index] = True
            self._seen.append(index)
        return index

    def _zipf_rank(self, limit: int) -> int:
        while True:  # rejection keeps the law exact; P(rank 1) alone is over 1/zeta(s), so this ends fast
            rank = int(self._rng.zipf(self.zipf_exponent))
            if rank <= limit:
                return rank
