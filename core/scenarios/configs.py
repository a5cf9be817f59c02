"""Typed scenario configs: how load is applied while timing. Forms and CLI specs come from these."""
from __future__ import annotations

from dataclasses import dataclass

from core.options import option


@dataclass(frozen=True)
class SingleStreamConfig:
    """One request after another: the latency a single caller sees. No options."""


@dataclass(frozen=True)
class OfflineConfig:
    workers: int = option(1, "threads feeding batches to the one session at the same time", minimum=1, maximum=64)


@dataclass(frozen=True)
class ServerConfig:
    rate: float = option(100.0, "target arrival rate, requests per second (Poisson arrivals)",
                         minimum=0.01, maximum=1_000_000.0)
    requests: int = option(1000, "requests to send at most (the timing protocol's max seconds also bounds it)",
                           minimum=10, maximum=1_000_000)
    seed: int = option(0, "seed of the arrival times", minimum=0, maximum=2**31 - 1)
    max_batch: int = option(1, "dynamic batching: requests merged into one call at most; 1 = off",
                            minimum=1, maximum=1024)
    max_queue_delay_ms: float = option(2.0, "dynamic batching: longest the first request of a batch waits for "
                                            "others, ms", minimum=0.0, maximum=10_000.0)
    latency_bound_ms: float = option(50.0, "report the share of requests slower than this, ms",
                                     minimum=0.001, maximum=1_000_000.0)


@dataclass(frozen=True)
class ConcurrentConfig:
    clients: int = option(4, "client threads, each sending its next request as soon as the last returns",
                          minimum=1, maximum=256)
    sessions: int = option(1, "model instances the clients share round-robin; 1 = one shared session",
                           minimum=1, maximum=64)
    requests: int = option(1000, "requests to send in total at most (the timing protocol's max seconds also "
                                 "bounds it)", minimum=10, maximum=1_000_000)
