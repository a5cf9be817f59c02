"""A language model's quality on held-out text, and its fidelity to the FP32 original: perplexity and next-token
top-1 (each with a 95% interval from resampling whole texts, since the tokens of one text are not independent), the
mean KL divergence of the next-token distribution from FP32's, and how many of FP32's greedy tokens a configuration
repeats. Computed here, never by Hugging Face's `evaluate` (it downloads its metric code)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.bench.percentiles import bootstrap_interval
from core.progress import Progress, no_progress

BOOTSTRAP = 1000
SEED = 0


@dataclass(frozen=True)
class WindowScores:
    """Per held-out window: summed negative log-likelihood (nats), predicted tokens, correct top-1 predictions, and
    the summed KL divergence from the reference (None without one)."""

    nll: np.ndarray
    tokens: np.ndarray
    correct: np.ndarray
    kl: np.ndarray | None = None


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits.astype(np.float64) - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def score(logits_of, windows: list[np.ndarray], reference_of=None, progress: Progress = no_progress,
          stage: str = "evaluate") -> WindowScores:
    """Score each window (a 1-D token array) by `logits_of(ids (1, L)) -> (1, L, V)`: the model predicts tokens 1..L-1
    from their prefixes. With `reference_of`, also KL(reference ‖ model) at every predicted position."""
    nll, tokens, correct, kl = [], [], [], []
    for i, window in enumerate(windows):
        ids = np.asarray(window, dtype=np.int64)[None]
        logp = log_softmax(logits_of(ids)[0, :-1])
        targets = ids[0, 1:]
        nll.append(-logp[np.arange(len(targets)), targets].sum())
        tokens.append(len(targets))
        correct.append(int((logp.argmax(axis=-1) == targets).sum()))
        if reference_of is not None:
            ref = log_softmax(reference_of(ids)[0, :-1])
            kl.append(float((np.exp(ref) * (ref - logp)).sum()))
        progress(stage, (i + 1) / len(windows))
    return WindowScores(np.asarray(nll), np.asarray(tokens), np.asarray(correct),
                        None if reference_of is None else np.asarray(kl))


def _resampled(numerator: np.ndarray, denominator: np.ndarray, transform=lambda x: x) -> tuple[float, float, float]:
    """A ratio of sums and its 95% bootstrap interval, resampling whole windows."""
    value = transform(numerator.sum() / denominator.sum())
    low, high = bootstrap_interval(
        len(numerator), lambda picks: transform(numerator[picks].sum(axis=1) / denominator[picks].sum(axis=1)),
        BOOTSTRAP, SEED)
    return float(value), low, high


def quality_metrics(scores: WindowScores) -> dict[str, float | int]:
    """Perplexity and next-token top-1 with their intervals; the mean KL per token when scored against a reference."""
    ppl, ppl_low, ppl_high = _resampled(scores.nll, scores.tokens, np.exp)
    top1, top1_low, top1_high = _resampled(100.0 * scores.correct, scores.tokens)
    metrics: dict[str, float | int] = {
        "perplexity": ppl, "perplexity_ci_low": ppl_low, "perplexity_ci_high": ppl_high,
        "next_token_top1": top1, "next_token_top1_ci_low": top1_low, "next_token_top1_ci_high": top1_high,
        "eval_tokens": int(scores.tokens.sum()), "eval_samples": len(scores.tokens)}
    if scores.kl is not None:
        metrics["kl_mean"] = float(scores.kl.sum() / scores.tokens.sum())
    return metrics


def greedy_agreement(tokens: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """How much of the reference's greedy continuation (prompts, new tokens) a configuration repeats: the share of
    positions with the same token, with its interval over prompts, and the mean tokens before the first difference."""
    same = np.asarray(tokens) == np.asarray(reference)
    first_diff = np.where(same.all(axis=1), same.shape[1], same.argmin(axis=1))
    share, low, high = _resampled(100.0 * same.sum(axis=1), np.full(len(same), same.shape[1]))
    return {"greedy_agreement": share, "greedy_agreement_ci_low": low, "greedy_agreement_ci_high": high,
            "greedy_prefix_tokens": float(first_diff.mean())}

