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


def greedy(prefill: Callable[[], Any], advance: Callable[[Any, int], Any], new_tokens: int,
           clock: Clock) -> tuple[list[Any], tuple[int, ...]]:
    """The loop every decoder shares: `prefill()` runs the prompt and returns the first new token (batch, 1);
    `advance(token, step)` feeds the token chosen at `step` and returns the next. Each token is stamped (clock ns
    from the call's start) as it is chosen, and nothing runs after the last one. Returns the tokens and stamps."""
    stamps, chosen = [], []
    start = clock()
    token = prefill()
    for step in range(new_tokens):
        chosen.append(token)
        stamps.append(clock() - start)
        if step == new_tokens - 1:
            break
        token = advance(token, step)
    return chosen, tuple(stamps)


def _next_torch_token(logits: Any) -> Any:
    """The argmax of the last position (the first of tied logits, as numpy's argmax); on a GPU, waited for, so its
    stamp is when it exists."""
    import torch

    token = logits[:, -1].argmax(-1, keepdim=True)
    if token.is_cuda:
        torch.cuda.synchronize()
    return token


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
            ids = torch.from_numpy(np.ascontiguousarray(ids, dtype=np.int64)).to(self.model.device)
            return self.model(input_ids=ids, use_cache=False).logits.float().cpu().numpy()

    def generate(self, prompt: np.ndarray, new_tokens: int, clock: Clock = time.perf_counter_ns) -> Generated:
        import torch

        model = self.model
        state: dict[str, Any] = {}

        def prefill() -> Any:
            state["out"] = model(input_ids=state["sequence"], use_cache=self.kv_cache)
            return _next_torch_token(state["out"].logits)

        def advance(token: Any, step: int) -> Any:
            if self.kv_cache:
                state["out"] = model(input_ids=token, cache=state["out"].cache, use_cache=True)
            else:
                state["sequence"] = torch.cat([state["sequence"], token], dim=1)
                state["out"] = model(input_ids=state["sequence"], use_cache=False)
            return _next_torch_token(state["out"].logits)

        with torch.inference_mode():
            state["sequence"] = torch.from_numpy(np.ascontiguousarray(prompt, dtype=np.int64)).to(model.device)
            chosen, stamps = greedy(prefill, advance, new_tokens, clock)
        return Generated(torch.cat(chosen, dim=1).cpu().numpy(), stamps)


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

        length = prompt.shape[1]
        state: dict[str, Any] = {}

        def prefill() -> Any:
            state["cache"] = self._static_cache(len(prompt), length + new_tokens)
            out = self.forward(input_ids=state["ids"], cache=state["cache"], cache_position=torch.arange(length),
                               use_cache=True)
            return _next_torch_token(out.logits)

        def advance(token: Any, step: int) -> Any:
            out = self.forward(input_ids=token, cache=state["cache"], cache_position=torch.tensor([length + step]),
                               use_cache=True)
            return _next_torch_token(out.logits)

        with torch.inference_mode():
            state["ids"] = torch.from_numpy(np.ascontiguousarray(prompt, dtype=np.int64))
            chosen, stamps = greedy(prefill, advance, new_tokens, clock)
        return Generated(torch.cat(chosen, dim=1).numpy(), stamps)
