"""A generation model as a deployable folder: the ONNX graph with its KV cache as inputs and outputs, the tokenizer,
and a generation config (greedy, the run's new tokens) — verified by reopening the written graph in ONNX Runtime and
generating from the prompts: every token must be the one the run generated."""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import VerificationError
from core.generation import graphs
from core.generation.continuations import first_difference

GRAPH = "model.onnx"


@dataclass(frozen=True)
class Package:
    folder: Path
    files: tuple[str, ...]
    prompts_checked: int
    tokens_checked: int


def write_package(graph: Path, tokenizer: Any, model_config: Any, folder: Path, prompts: np.ndarray,
                  expected: np.ndarray) -> Package:
    """Copy `graph` into `folder` with the tokenizer and a generation config, then check that the written graph
    generates `expected` (prompts, new tokens) greedily; refused, naming the first differing token, otherwise."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(graph, folder / GRAPH)
    tokenizer.save_pretrained(str(folder))
    layers, heads, head_size = graphs.cache_shape(model_config)
    new_tokens = int(expected.shape[1])
    (folder / "generation_config.json").write_text(json.dumps({
        "do_sample": False, "max_new_tokens": new_tokens, "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id}, indent=2))
    (folder / "inferscope_graph.json").write_text(json.dumps({
        "inputs": [graphs.IDS, *graphs.past_names(layers)], "outputs": ["logits", *graphs.present_names(layers)],
        "cache": {"layers": layers, "heads": heads, "head_size": head_size, "layout": "batch, heads, past, head size"},
        "usage": "feed the prompt with empty past tensors, then one token at a time with the presents fed back"},
        indent=2))
    decoder = graphs.ort_decoder(folder / GRAPH, model_config)
    for row, prompt in enumerate(prompts):
        tokens = decoder.generate(prompt[None], new_tokens).tokens[0]
        cut = first_difference(tokens, expected[row])
        if cut is not None:
            raise VerificationError(f"the written graph generates token {int(tokens[cut])} at position {cut + 1} of "
                                    f"prompt {row + 1} where the run generated {int(expected[row][cut])}")
    return Package(folder, tuple(sorted(p.name for p in folder.iterdir())), len(prompts), expected.size)
