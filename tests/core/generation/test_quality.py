"""Perplexity, next-token top-1, KL and greedy agreement from logits whose answers are known."""
from __future__ import annotations

import numpy as np
import pytest

from core.generation.quality import greedy_agreement, quality_metrics, score

VOCAB = 8


def uniform(ids: np.ndarray) -> np.ndarray:
    return np.zeros((*ids.shape, VOCAB), np.float32)


def certain_of_next(ids: np.ndarray) -> np.ndarray:
    """Predicts token t+1 = t + 1 (mod VOCAB) with near certainty."""
    out = np.full((*ids.shape, VOCAB), -30.0, np.float32)
    for j, token in enumerate(ids[0]):
        out[0, j, (token + 1) % VOCAB] = 30.0
    return out


WINDOWS = [np.arange(10) % VOCAB, (np.arange(6) + 3) % VOCAB, np.arange(4) % VOCAB]


def test_uniform_model_has_the_vocabulary_as_perplexity():
    metrics = quality_metrics(score(uniform, WINDOWS))
    assert metrics["perplexity"] == pytest.approx(VOCAB)
    assert metrics["eval_tokens"] == 9 + 5 + 3 and metrics["eval_samples"] == 3
    assert metrics["perplexity_ci_low"] == pytest.approx(VOCAB) == metrics["perplexity_ci_high"]  # every text alike


def test_a_model_that_knows_the_sequence_is_perfect_and_has_no_kl_from_itself():
    metrics = quality_metrics(score(certain_of_next, WINDOWS, reference_of=certain_of_next))
    assert metrics["perplexity"] == pytest.approx(1.0)
    assert metrics["next_token_top1"] == pytest.approx(100.0)
    assert metrics["kl_mean"] == pytest.approx(0.0, abs=1e-9)


def test_kl_from_a_confident_reference_to_uniform_is_log_vocab():
    metrics = quality_metrics(score(uniform, WINDOWS, reference_of=certain_of_next))
    assert metrics["kl_mean"] == pytest.approx(np.log(VOCAB), rel=1e-6)
    assert metrics["next_token_top1"] < 100.0  # ties go to token 0, right only where the next token is 0


def test_greedy_agreement_counts_positions_and_the_first_difference():
    reference = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    tokens = np.array([[1, 2, 0, 4], [5, 6, 7, 8]])
    result = greedy_agreement(tokens, reference)
    assert result["greedy_agreement"] == pytest.approx(100 * 7 / 8)
    assert result["greedy_prefix_tokens"] == pytest.approx((2 + 4) / 2)
    assert result["greedy_agreement_ci_low"] <= result["greedy_agreement"] <= result["greedy_agreement_ci_high"]
