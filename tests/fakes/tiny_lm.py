"""A tiny Hugging Face causal language model saved in a folder, as a user's `save_pretrained` would leave it: a
byte-level BPE tokenizer trained here on BBC News articles and a 1-block GPT-2 with random weights, so generation
runs take seconds."""
from __future__ import annotations

from pathlib import Path

# What a run of it reads and generates: short, so a run is quick, and within the 64 positions it reads.
GENERATION = "prompt_length=8,new_tokens=4,prompts=2,window=16"


def save_tiny_causal_lm(folder: Path, texts: list[str], *, seed: int = 0) -> Path:
    """Train the tokenizer on `texts`, build the model and save both into `folder`; returns the folder."""
    import torch

    from core.generation.lm import LMOptions, new_model, train_tokenizer

    tokenizer = train_tokenizer(texts, 300, folder)
    torch.manual_seed(seed)
    model = new_model(LMOptions(layers=1, width=32, heads=2, context=64, block=32), tokenizer)
    model.save_pretrained(str(folder))
    return folder
