"""Compare's continuations (text generation): for each prompt, FP32's greedy continuation and each run's, split at
the first token where the run parts from FP32 — what a user reads to judge a weight format beyond perplexity."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.store import RunRecord

PROMPT_TAIL = 160  # characters of a prompt shown before its continuations


@dataclass(frozen=True)
class Part:
    """One run's continuation of one prompt: agreed with FP32 up to `differing` (None: agreed throughout)."""

    run_id: int
    agreed: str
    differing: str
    rest: str
    first_difference: int | None
    tokens: int


@dataclass(frozen=True)
class PromptRow:
    prompt: str        # the prompt's last PROMPT_TAIL characters
    fp32: str          # FP32's continuation
    parts: tuple[Part, ...]


def stored(run: RunRecord) -> list[dict]:
    """The continuations a generation run stored (empty for any other run)."""
    return (run.environment or {}).get("continuations") or []


def continuation_rows(runs: Sequence[RunRecord]) -> list[PromptRow]:
    """One row per prompt of the first run that stored continuations, with every run that continued the same
    prompts (same model options, texts and seed), in the order given."""
    first = next((r for r in runs if stored(r)), None)
    if first is None:
        return []
    prompts = [c.get("prompt_ids") for c in stored(first)]
    same = [r for r in runs if [c.get("prompt_ids") for c in stored(r)] == prompts]
    rows = []
    for k, reference in enumerate(stored(first)):
        tail = reference["prompt"][-PROMPT_TAIL:]
        parts = tuple(Part(r.id, c["agreed"], c["differing"], c["rest"], c["first_difference"], c["tokens"])
                      for r in same for c in (stored(r)[k],))
        rows.append(PromptRow(("…" if len(reference["prompt"]) > PROMPT_TAIL else "") + tail,
                              reference.get("reference_text", ""), parts))
    return rows


def left_out(runs: Sequence[RunRecord]) -> list[RunRecord]:
    """The runs `continuation_rows` cannot show beside the others: no continuations, or other prompts."""
    rows = continuation_rows(runs)
    shown = {p.run_id for p in rows[0].parts} if rows else set()
    return [r for r in runs if r.id not in shown]
