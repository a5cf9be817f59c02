"""Decoders of one tiny GPT-2: eager with and without its KV cache, ONNX Runtime and OpenVINO over the exported
graph, and the weight-only formats — each checked against eager FP32."""
from __future__ import annotations

import copy

import numpy as np
import pytest

from core.bench.timing import TimingConfig
from core.generation import graphs
from core.generation.decoding import TorchDecoder
from core.generation.timing import time_generation
from core.generation.weights import as_linear

NEW = 6


def test_the_kv_cache_changes_nothing_but_the_work(tiny_lm, prompts):
    cached, uncached = TorchDecoder(tiny_lm), TorchDecoder(tiny_lm, kv_cache=False)
    a, b = cached.generate(prompts, NEW), uncached.generate(prompts, NEW)
    assert a.tokens.shape == (len(prompts), NEW)
    np.testing.assert_array_equal(a.tokens, b.tokens)
    assert len(a.stamps_ns) == NEW and list(a.stamps_ns) == sorted(a.stamps_ns)
    assert cached.engine == "torch, KV cache" and uncached.engine == "torch, no KV cache"


def test_linear_projections_compute_what_conv1d_did(tiny_lm, prompts):
    swapped = copy.deepcopy(tiny_lm)
    assert as_linear(swapped) == 2 * 4  # per block: c_attn, attention c_proj, c_fc, mlp c_proj
    np.testing.assert_allclose(TorchDecoder(swapped).logits(prompts), TorchDecoder(tiny_lm).logits(prompts),
                               atol=1e-5)


@pytest.fixture
def exported(tiny_lm, tmp_path):
    return graphs.export_with_cache(tiny_lm, tmp_path / "fp32.onnx")


def test_onnx_runtime_runs_the_exported_graph_as_eager_does(tiny_lm, prompts, exported):
    decoder = graphs.ort_decoder(exported, tiny_lm.config)
    eager = TorchDecoder(tiny_lm)
    np.testing.assert_allclose(decoder.logits(prompts), eager.logits(prompts), atol=1e-4)
    np.testing.assert_array_equal(decoder.generate(prompts, NEW).tokens, eager.generate(prompts, NEW).tokens)


def test_openvino_keeps_the_cache_in_its_state_and_agrees(tiny_lm, prompts, exported):
    decoder = graphs.openvino_decoder(graphs.openvino_model(exported), tiny_lm.config)
    eager = TorchDecoder(tiny_lm)
    np.testing.assert_allclose(decoder.logits(prompts[:1]), eager.logits(prompts[:1]), atol=1e-4)
    np.testing.assert_array_equal(decoder.generate(prompts, NEW).tokens, eager.generate(prompts, NEW).tokens)
    # a second generation starts from an empty cache again
    np.testing.assert_array_equal(decoder.generate(prompts, NEW).tokens, eager.generate(prompts, NEW).tokens)


def test_matmul_nbits_quantizes_every_projection(tiny_lm, prompts, exported, tmp_path):
    import onnx

    int4 = graphs.matmul_nbits(exported, tmp_path / "int4.onnx", bits=4, block_size=16)
    ops = [node.op_type for node in onnx.load(str(int4)).graph.node]
    assert ops.count("MatMulNBits") >= 2 * 4 and "Gemm" not in ops
    logits = graphs.ort_decoder(int4, tiny_lm.config).logits(prompts)
    reference = TorchDecoder(tiny_lm).logits(prompts)
    assert np.isfinite(logits).all() and 0 < np.abs(logits - reference).max() < 1.0


def test_nncf_compresses_weights_for_openvino(tiny_lm, prompts, exported):
    compressed = graphs.nncf_compress(graphs.openvino_model(exported), "int8_asym")
    logits = graphs.openvino_decoder(compressed, tiny_lm.config).logits(prompts[:1])
    reference = TorchDecoder(tiny_lm).logits(prompts[:1])
    assert np.isfinite(logits).all() and 0 < np.abs(logits - reference).max() < 1.0


def test_generation_timing_stamps_every_token(tiny_lm, prompts):
    config = TimingConfig(warmup=1, warmup_seconds=0.0, min_repeats=3, min_seconds=0.0)
    timing = time_generation(TorchDecoder(tiny_lm), prompts, NEW, config, batch=2)
    assert len(timing.ttft_ms) == len(timing.e2e_ms) >= 3
    assert len(timing.itl_ms) == len(timing.e2e_ms) * (NEW - 1)
    metrics = timing.metrics()
    assert metrics["generated_tokens_per_s"] == pytest.approx(2 * NEW * len(timing.e2e_ms)
                                                              / timing.stats.wall_seconds)
    assert 0 < metrics["ttft_p50_ms"] <= timing.stats.percentile(50)
    assert metrics["itl_p99_ms"] is None  # 15 gaps cannot support a p99


def test_a_batch_the_prompts_cannot_fill_is_refused(tiny_lm, prompts):
    with pytest.raises(ValueError, match="cannot fill a batch of 8"):
        time_generation(TorchDecoder(tiny_lm), prompts, NEW, TimingConfig(), batch=8)


def test_a_package_is_verified_token_by_token(tiny_lm, prompts, exported, tmp_path):
    from core.errors import VerificationError
    from core.generation.lm import train_tokenizer
    from core.generation.package import write_package

    tokenizer = train_tokenizer(["some words to learn from"] * 10, 300, tmp_path / "tok")
    expected = TorchDecoder(tiny_lm).generate(prompts, NEW).tokens
    package = write_package(exported, tokenizer, tiny_lm.config, tmp_path / "out", prompts, expected)
    assert {"model.onnx", "generation_config.json", "tokenizer.json"} <= set(package.files)
    assert package.tokens_checked == expected.size
    wrong = expected.copy()
    wrong[1, 2] = (wrong[1, 2] + 1) % 64
    with pytest.raises(VerificationError, match="position 3 of prompt 2"):
        write_package(exported, tokenizer, tiny_lm.config, tmp_path / "again", prompts, wrong)


def test_torch_compile_over_a_static_cache_generates_what_eager_does(tiny_lm, prompts):
    from core.generation.decoding import CompiledDecoder

    compiled, eager = CompiledDecoder(tiny_lm), TorchDecoder(tiny_lm)
    first = compiled.generate(prompts[:1], NEW)
    np.testing.assert_array_equal(first.tokens, eager.generate(prompts[:1], NEW).tokens)
    np.testing.assert_array_equal(compiled.generate(prompts[:1], NEW).tokens, first.tokens)  # the cache was reset
