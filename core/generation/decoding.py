"""Decoders: one causal language model run one way (eager PyTorch with or without its KV cache, ...). Each gives
full-sequence logits (for quality) and a greedy, fixed-length generation stamped token by token (for speed): every
configuration does the same work, whatever it predicts, and no end-of-text token stops it early."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

Clock = Callable[[], int]


@dataclass(frozen=True)
class Generated:
    """A greedy generation: the new tokens (batch, new) and when each arrived, in clock nanoseconds from the call's
    start (`stamps[0]` is the time to the first token)."""

    tokens: np.ndarray
    stamps_ns: tuple[int, ...]


class Decoder(Protocol):
    """What quality and timing ask of a language model run one way."""

    engine: str   # as runs and tables name it: "torch, KV cache"

    def logits(self, ids: np.ndarray) -> np.ndarray:
        """Next-token logits at every position of `ids` (batch, length) -> (batch, length, vocab), float32."""
        ...

    def generate(self, prompt: np.ndarray, new_tokens: int, clock: Clock = time.perf_counter_ns) -> Generated:
        """`new_tokens` greedy tokens after each prompt row (equal-length rows, no padding)."""
        ...


class TorchDecoder:
    """A Hugging Face causal LM in eager PyTorch, with its KV cache (each step reads only the newest token) or
    without (each step runs the whole sequence again: what the cache buys)."""

    def __init__(self, model: Any, kv_cache: bool = True, label: str = "torch") -> None:
        self.model = model.eval()
        self.kv_cache = kv_cache
        self.engine = f"{label}, {'KV cache' if kv_cache else 'no KV cache'}"

    def logits(self, ids: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self.model(input_ids=torch.from_numpy(np.ascontiguousarray(ids, dtype=np.int64)),
                              use_cache=False).logits.float().numpy()

    def generate(self, prompt: np.ndarray, new_tokens: int, clock: Clock = time.perf_counter_ns) -> Generated:
        import torch

        model, stamps, chosen = self.model, [], []
        with torch.inference_mode():
            sequence = torch.from_numpy(np.ascontiguousarray(prompt, dtype=np.int64))
            start = clock()
            out = model(input_ids=sequence, use_cache=self.kv_cache)
            for step in range(new_tokens):
                token = out.logits[:, -1].argmax(-1, keepdim=True)  # the first of tied logits, as numpy's argmax
                chosen.append(token)
                stamps.append(clock() - start)
                if step == new_tokens - 1:
                    break
                if self.kv_cache:
                    out = model(input_ids=token, cache=out.cache, use_cache=True)
                else:
                    sequence = torch.cat([sequence, token], dim=1)
                    out = model(input_ids=sequence, use_cache=False)
        return Generated(torch.cat(chosen, dim=1).numpy(), tuple(stamps))


class CompiledDecoder:
    """The model's forward compiled by `torch.compile` over a static KV cache (preallocated to the prompt plus the
    new tokens, reset between generations), so every step has the same shapes: one graph for the prompt, one for a
    step. The first generation at a new shape compiles (the cold first call)."""

    def __init__(self, model: Any, label: str = "torch.compile, static cache") -> None:
        import torch

        self.model = model.eval()
        self.forward = torch.compile(model.forward, dynamic=False)
        self.engine = label
        self._cache: Any = None
        self._cache_key: tuple[int, int] | None = None

    def logits(self, ids: np.ndarray) -> np.ndarray:
        """The eager forward's logits: compiling every window length would compile a graph per length. The compiler
        keeps the arithmetic (its fused kernels may differ in the last bits), and the greedy continuations, which
        are compared with FP32's, do run compiled."""
        import torch

        with torch.inference_mode():
            return self.model(input_ids=torch.from_numpy(np.ascontiguousarray(ids, dtype=np.int64)),
                              use_cache=False).logits.float().numpy()

    def _static_cache(self, batch: int, length: int) -> Any:
        from transformers.cache_utils import StaticCache

        if self._cache_key != (batch, length):
            self._cache, self._cache_key = StaticCache(config=self.model.config, max_cache_len=length), (batch, length)
        else:
            self._cache.reset()
        return self._cache

    def generate(self, prompt: np.ndarray, new_tokens: int, clock: Clock = time.perf_counter_ns) -> Generated:
        import torch

        stamps, chosen = [], []
        length = prompt.shape[1]
        with torch.inference_mode():
            ids = torch.from_numpy(np.ascontiguousarray(prompt, dtype=np.int64))
            start = clock()
            cache = self._static_cache(len(prompt), length + new_tokens)
            out = self.forward(input_ids=ids, cache=cache, cache_position=torch.arange(length), use_cache=True)
            for step in range(new_tokens):
                token = out.logits[:, -1].argmax(-1, keepdim=True)
                chosen.append(token)
                stamps.append(clock() - start)
                if step == new_tokens - 1:
                    break
                out = self.forward(input_ids=token, cache=cache, cache_position=torch.tensor([length + step]),
                                   use_cache=True)
        return Generated(torch.cat(chosen, dim=1).numpy(), tuple(stamps))
