"""Causal language models (text generation): `gpt2-bbc`, the offline default (a small GPT-2 with its own BPE
tokenizer, trained here on BBC News' train split and cached), and `causal-lm`, any Hugging Face
`AutoModelForCausalLM` by hub name or saved folder. Their options are what a generation run reads and generates
(`GenerationSettings`: prompt and new tokens, prompts, the perplexity window), so runs that read or generate
differently compare only with their own baseline."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from core.errors import ModelError
from core.generation.evaluate import GenerationSettings, check_fits
from core.generation.lm import (
    FOLDER,
    LMOptions,
    check_shape,
    load_causal_lm,
    trained_folder,
)
from core.models.base import LoadedModel, ModelEntry
from core.options import option, to_dict
from core.progress import Progress
from core.runtimes.language_models import LanguageModel
from core.settings import Settings

TASK = "text-generation"
LABEL_SPACE = "next-token"  # what the outputs mean: a distribution over the tokenizer's vocabulary


@dataclass(frozen=True)
class LanguageInputs:
    """What a language model reads: its tokenizer, and at most `positions` tokens (None: not bounded)."""

    tokenizer: Any
    positions: int | None
    item = "text"


@dataclass(frozen=True)
class OfflineLMOptions(LMOptions, GenerationSettings):
    """The offline default's architecture and training, and what its runs read and generate."""


@dataclass(frozen=True)
class CausalLMOptions(GenerationSettings):
    id: str = option("", "hub name (e.g. distilgpt2, HuggingFaceTB/SmolLM2-135M) or a folder saved with "
                         "save_pretrained")


def _part(cls: type, options: Any) -> Any:
    return cls(**{f.name: getattr(options, f.name) for f in fields(cls)})


def _loaded(name: str, source: str, model: Any, tokenizer: Any, options: Any, notes: list[str]) -> LoadedModel:
    positions = getattr(model.config, "n_positions", None) or getattr(model.config, "max_position_embeddings", None)
    check_fits(_part(GenerationSettings, options), positions)
    if getattr(model.config, "is_encoder_decoder", False):
        raise ModelError(f"{name} is an encoder-decoder model; text generation here measures decoder-only causal "
                         "language models")
    return LoadedModel(name, source, LanguageModel(model), LanguageInputs(tokenizer, positions), LABEL_SPACE,
                       len(tokenizer), options=to_dict(options), notes=notes)


def build_offline(options: OfflineLMOptions, settings: Settings, progress: Progress) -> LoadedModel:
    folder, record = trained_folder(_part(LMOptions, options), settings, progress)
    model, tokenizer = load_causal_lm(str(folder), settings)
    notes = [f"GPT-2 trained here: {record['params']:,} parameters, {record['epochs']} epoch(s) on "
             f"{record['articles']:,} BBC News articles, held-out perplexity {record['held_out_perplexity']}"]
    return _loaded("gpt2-bbc", "trained-lm", model, tokenizer, options, notes)


def build_causal_lm(options: CausalLMOptions, settings: Settings, progress: Progress) -> LoadedModel:
    if not options.id:
        raise ModelError("causal-lm needs the model: --model causal-lm:id=NAME_OR_FOLDER (e.g. causal-lm:id=distilgpt2)")
    progress("build", 0.1)
    model, tokenizer = load_causal_lm(options.id, settings)
    params = sum(p.numel() for p in model.parameters())
    notes = [f"Hugging Face {model.config.model_type} causal LM {options.id}: {params / 1e6:.1f}M parameters"]
    return _loaded(options.id, "huggingface-lm", model, tokenizer, options, notes)


def check_offline(options: OfflineLMOptions, runtime: Any) -> None:
    check_shape(_part(LMOptions, options))
    check_fits(_part(GenerationSettings, options), options.context, runtime.batch)


def check_causal_lm(options: CausalLMOptions, runtime: Any) -> None:
    check_fits(_part(GenerationSettings, options), None, runtime.batch)


def describe_offline(settings: Settings) -> dict[str, Any]:
    default = asdict(LMOptions())
    records = [json.loads(p.read_text()) for p in (settings.models_dir / FOLDER).glob("gpt2-bbc-*/inferscope.json")]
    cached = next((r for r in records if all(r.get(k) == v for k, v in default.items())), None)
    return {"params": cached["params"] if cached else None, "gflops": None, "input": "text: prompt + new tokens ≤ 256",
            "weights_offline": True,
            "weights": "cached" if cached else "trained on first use (about 5 minutes on 2 cores)",
            "reference_top1": None, "reference_perplexity": cached["held_out_perplexity"] if cached else None}


def describe_causal_lm(settings: Settings) -> dict[str, Any]:
    return {"params": None, "gflops": None, "input": "text", "weights_offline": False,
            "weights": "from the Hugging Face hub or a local folder", "reference_top1": None}


ENTRIES = [
    ModelEntry(name="gpt2-bbc", source="trained-lm", description="a small GPT-2 (4 blocks, width 256, 4.3M parameters) "
               "with a BPE tokenizer, both trained here on BBC News", label_space=LABEL_SPACE,
               options_cls=OfflineLMOptions, build=build_offline, describe=describe_offline, task=TASK,
               check=check_offline),
    ModelEntry(name="causal-lm", source="huggingface-lm", description="any Hugging Face causal language model: "
               "causal-lm:id=NAME_OR_FOLDER", label_space=LABEL_SPACE, options_cls=CausalLMOptions,
               build=build_causal_lm, describe=describe_causal_lm, task=TASK, check=check_causal_lm),
]
