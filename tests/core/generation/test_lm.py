"""The offline default language model: a BPE tokenizer and a GPT-2 trained on BBC News, cached as a folder any
AutoModelForCausalLM loads."""
from __future__ import annotations

import json

from core.generation.lm import LMOptions, trained_folder
from core.settings import load_settings

TINY = LMOptions(layers=1, width=32, heads=2, vocab=300, context=64, block=32, epochs=1, train_limit=8)


def test_trains_once_and_loads_as_a_hugging_face_causal_lm(private_cache):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    stages = []
    folder, record = trained_folder(TINY, load_settings(), lambda stage, fraction: stages.append(stage))
    assert record["articles"] == 8 and record["held_out_perplexity"] > 1
    assert any("epoch 1 of 1" in stage for stage in stages)
    model, tokenizer = AutoModelForCausalLM.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)
    assert model.config.n_layer == 1 and len(tokenizer) <= 300
    assert tokenizer.decode(tokenizer("Shares rose")["input_ids"]) == "Shares rose"
    again, cached = trained_folder(TINY, load_settings(), lambda stage, fraction: stages.append("again"))
    assert again == folder and cached == json.loads((folder / "inferscope.json").read_text())
    assert "again" not in stages
