"""Integration: the real pretrained all-MiniLM-L6-v2 encoder, fine-tuned briefly here on BBC News (a few articles, so
the test takes seconds; `python -m core prepare --model minilm-bbc` fine-tunes on the whole train split), measured
in eager PyTorch and as an ONNX Runtime dynamic INT8 graph."""
from __future__ import annotations

import pytest

from tests.conftest import FAST_TIMING

QUICK = "minilm-bbc:train_limit=32,epochs=1"


def test_the_fine_tuned_encoder_is_cached_with_its_record(private_cache, settings):
    from core.models import build_model, parse_model

    stages = []
    model = build_model(parse_model(QUICK), settings, lambda stage, fraction: stages.append(stage))
    assert any(stage.startswith("fine-tune · epoch 1 of 1") for stage in stages)
    assert model.num_classes == 5 and model.label_space == "bbc-news" and model.source == "fine-tuned"
    assert "fine-tuned here: 1 epoch(s) on 32 BBC News articles" in model.notes[0]
    params = sum(p.numel() for p in model.artifact.module.parameters())
    assert 22_000_000 < params < 24_000_000  # the real MiniLM-L6: 6 layers, hidden 384
    again = []
    build_model(parse_model(QUICK), settings, lambda stage, fraction: again.append(stage))
    assert not any(stage.startswith("fine-tune") for stage in again)  # cached


def test_a_minilm_run_and_its_dynamic_int8_graph(api):
    from core.api import RunRequest

    def run(*techniques, model=QUICK):
        request = RunRequest(model=model, dataset="bbc-news", subset=16, techniques=techniques, batch=8,
                             timing=dict(FAST_TIMING))
        return api.execute(api.submit(request))

    fp32 = run()
    int8 = run("onnx_export", "ort_dynamic_int8")
    assert fp32.status == int8.status == "done", (fp32.error, int8.error)
    # MatMul weights shrink 4x; the word embeddings (a Gather, 47 MB of the 91) stay float
    assert int8.engine == "onnxruntime" and int8.metrics["size_mb"] < 0.75 * fp32.metrics["size_mb"]
    assert int8.metrics["agreement"] >= 75 and int8.metrics["logit_cosine"] > 0.9
    inputs = fp32.environment["inputs"]
    assert inputs["tokens_p50"] > 250 and inputs["truncated_pct"] > 90  # BBC articles are long: 128 cuts them
    assert fp32.metrics["padding_pct"] == pytest.approx(0.0, abs=1.0)
