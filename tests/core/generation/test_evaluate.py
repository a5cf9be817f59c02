"""A configuration measured end to end against FP32: quality, continuations, timing, memory, contention."""
from __future__ import annotations

import copy

import pytest

from core.bench.timing import TimingConfig
from core.errors import RecipeError
from core.generation.decoding import TorchDecoder
from core.generation.evaluate import GenerationSettings, check_fits, evaluate
from core.generation.lm import LMOptions, new_model, train_tokenizer

TEXTS = [f"Article {i}: the market rose as shares in the company climbed after results were announced today."
         for i in range(12)]
SETTINGS = GenerationSettings(prompt_length=6, new_tokens=5, prompts=4, window=12)
TIMING = TimingConfig(warmup=1, warmup_seconds=0.0, min_repeats=3, min_seconds=0.0)


@pytest.fixture
def lm(tmp_path):
    import torch

    tokenizer = train_tokenizer(TEXTS, 300, tmp_path / "tok")
    torch.manual_seed(0)
    return new_model(LMOptions(layers=1, width=32, heads=2, context=64, block=32), tokenizer).eval(), tokenizer


def test_fp32_against_itself_is_faithful_and_timed(lm):
    model, tokenizer = lm
    result = evaluate(TorchDecoder(model, kv_cache=False), TorchDecoder(model), tokenizer, TEXTS, SETTINGS, TIMING)
    m = result.metrics
    assert m["greedy_agreement"] == 100.0 and m["kl_mean"] == pytest.approx(0.0, abs=1e-6)
    assert m["perplexity"] > 1 and m["eval_samples"] == len(TEXTS)
    assert m["latency_count"] >= 3 and m["generated_tokens_per_s"] > 0 and m["peak_mem_mb"] > 0 and "other_cpu_pct" in m
    assert result.continuations.shape == (4, 5)


def test_a_changed_model_is_seen_in_kl_and_agreement(lm):
    import torch

    model, tokenizer = lm
    noisy = copy.deepcopy(model)
    with torch.no_grad():
        for p in noisy.parameters():
            p.add_(torch.randn_like(p) * 0.5)
    m = evaluate(TorchDecoder(noisy), TorchDecoder(model), tokenizer, TEXTS, SETTINGS, TIMING).metrics
    assert m["kl_mean"] > 0.01 and m["greedy_agreement"] < 100.0


def test_settings_that_cannot_fit_are_refused_in_their_words():
    with pytest.raises(RecipeError, match="prompt tokens \\(200\\) plus new tokens \\(64\\) is 264, beyond the 256"):
        check_fits(GenerationSettings(prompt_length=200, new_tokens=64), 256)
    with pytest.raises(RecipeError, match="prompts \\(2\\) must be at least the batch \\(4\\)"):
        check_fits(GenerationSettings(prompts=2), None, batch=4)
