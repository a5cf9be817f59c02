"""The offline default language model: a small GPT-2 (a byte-level BPE tokenizer trained with `tokenizers`, then
the model) trained here on the BBC News train split and cached as a Hugging Face folder, so it loads as any
`AutoModelForCausalLM` does. Small, but a real trained language model whose quality can be measured."""
from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ConfigError
from core.files import atomic_write
from core.options import option
from core.progress import Progress, no_progress, time_left, with_detail
from core.settings import Settings

DATASET = "bbc-news"
END_OF_TEXT = "<|endoftext|>"
TRAINING_VERSION = 1   # bump when the training loop changes, so old caches are not reused
FOLDER = "generation"  # under the models folder


@dataclass(frozen=True)
class LMOptions:
    """The architecture and training of the offline default language model."""

    layers: int = option(4, "transformer blocks", minimum=1, maximum=12)
    width: int = option(256, "hidden width (a multiple of heads)", minimum=32, maximum=1024)
    heads: int = option(4, "attention heads", minimum=1, maximum=16)
    vocab: int = option(4096, "BPE vocabulary trained on the articles", minimum=300, maximum=50_000)
    context: int = option(256, "positions the model reads at most", minimum=32, maximum=1024)
    block: int = option(128, "tokens per training sequence", minimum=16, maximum=1024)
    epochs: int = option(2, "passes over the train split", minimum=1, maximum=50)
    seed: int = option(0, "training seed", minimum=0)
    train_limit: int | None = option(None, "train on only this many articles (a quick, weaker model)", minimum=8)


def cache_key(options: LMOptions, texts: list[str]) -> str:
    """Key of a trained model: its options, the training texts and the loop's version."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode())
    fields = {**asdict(options), "data": digest.hexdigest()[:16], "version": TRAINING_VERSION}
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]


def train_tokenizer(texts: list[str], vocab: int, folder: Path):
    """A byte-level BPE tokenizer (GPT-2's scheme: any text encodes, nothing is unknown) trained on `texts`, saved
    into `folder` as transformers loads it."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=vocab, min_frequency=2, special_tokens=[END_OF_TEXT], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token=END_OF_TEXT, eos_token=END_OF_TEXT,
                                        unk_token=END_OF_TEXT, pad_token=END_OF_TEXT)
    tokenizer.save_pretrained(str(folder))
    return tokenizer


def token_stream(tokenizer: Any, texts: list[str]) -> np.ndarray:
    """Every text's tokens, each followed by the end-of-text token, as one int64 stream."""
    eos = tokenizer.eos_token_id
    ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    return np.fromiter((t for article in ids for t in (*article, eos)), dtype=np.int64)


def check_shape(options: LMOptions) -> None:
    """Refuse an architecture that cannot be built or trained, in the options' words."""
    if options.width % options.heads:
        raise ConfigError(f"width ({options.width}) must be a multiple of heads ({options.heads})")
    if options.block > options.context:
        raise ConfigError(f"block ({options.block}) must be at most context ({options.context}): a training "
                          "sequence cannot be longer than the positions the model reads")


def new_model(options: LMOptions, tokenizer: Any):
    """A GPT-2 of the options' shape with random weights (seeded by the caller)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    check_shape(options)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=options.context, n_embd=options.width,
                        n_layer=options.layers, n_head=options.heads, bos_token_id=tokenizer.eos_token_id,
                        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.eos_token_id)
    return GPT2LMHeadModel(config)


def train(model: Any, stream: np.ndarray, options: LMOptions, progress: Progress, batch_size: int = 16,
          lr: float = 2e-3) -> dict[str, Any]:
    """Next-token training on blocks of the stream (AdamW, warm-up then cosine decay); deterministic for a seed and
    thread count."""
    import torch

    torch.manual_seed(options.seed)
    blocks = torch.from_numpy(stream[:len(stream) // options.block * options.block].reshape(-1, options.block))
    steps_per_epoch = max(1, -(-len(blocks) // batch_size))
    total = steps_per_epoch * options.epochs
    warmup = max(1, total // 20)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.1, betas=(0.9, 0.95))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, 0.5 * (1 + math.cos(math.pi * min(1.0, s / total)))))
    rng = np.random.default_rng(options.seed)
    model.train()
    start, step, loss = time.monotonic(), 0, float("nan")
    for epoch in range(options.epochs):
        order = torch.from_numpy(rng.permutation(len(blocks)))
        for first in range(0, len(blocks), batch_size):
            batch = blocks[order[first:first + batch_size]]
            out = model(input_ids=batch, labels=batch)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step, loss = step + 1, out.loss.item()
            left = time_left((time.monotonic() - start) / step * (total - step))
            progress(with_detail("train", f"epoch {epoch + 1} of {options.epochs}", f"loss {loss:.3f}",
                                 f"{left} left"), step / total)
    model.eval()
    return {"train_seconds": round(time.monotonic() - start, 1), "final_loss": round(loss, 4), "steps": total,
            "train_tokens": int(blocks.numel()), "threads": torch.get_num_threads()}


def held_out_perplexity(model: Any, tokenizer: Any, texts: list[str], context: int) -> float:
    """Perplexity over the first `context` tokens of each held-out text (the record's figure; runs measure their own
    with intervals, `core.generation.quality`)."""
    import torch

    nll, count = 0.0, 0
    with torch.inference_mode():
        for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]:
            window = torch.tensor([ids[:context]])
            if window.shape[1] < 2:
                continue
            out = model(input_ids=window, labels=window)
            nll += float(out.loss) * (window.shape[1] - 1)
            count += window.shape[1] - 1
    return math.exp(nll / max(count, 1))


def trained_folder(options: LMOptions, settings: Settings, progress: Progress = no_progress) -> tuple[Path, dict]:
    """The folder of the BBC News GPT-2 for `options` (trained and cached on first use) and its training record."""
    import torch

    from core.datasets import load_dataset

    dataset = load_dataset(DATASET, settings, None)
    texts = _train_texts(dataset.train, options.train_limit, options.seed)
    key = cache_key(options, texts)
    folder = settings.models_dir / FOLDER / f"gpt2-bbc-{key}"
    record_path = folder / "inferscope.json"
    if record_path.is_file():
        return folder, json.loads(record_path.read_text())
    building = folder.with_name(f".{folder.name}.{os.getpid()}.building")  # one per process: two may train at once
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    progress(with_detail("train", "tokenizer"), 0.0)
    tokenizer = train_tokenizer(texts, options.vocab, building)
    torch.manual_seed(options.seed)
    model = new_model(options, tokenizer)
    record = {"key": key, **asdict(options), "articles": len(texts), "params": sum(p.numel() for p in
                                                                                   model.parameters()),
              **train(model, token_stream(tokenizer, texts), options, progress)}
    record["held_out_perplexity"] = round(held_out_perplexity(
        model, tokenizer, dataset.evaluation.texts(np.arange(len(dataset.evaluation))), options.context), 2)
    model.generation_config.pad_token_id = tokenizer.eos_token_id
    model.save_pretrained(str(building))
    atomic_write(building / "inferscope.json", lambda p: p.write_text(json.dumps(record, indent=2)))
    try:
        building.rename(folder)
    except OSError:  # another process finished first: keep its folder, drop this one
        shutil.rmtree(building, ignore_errors=True)
        return folder, json.loads(record_path.read_text())
    return folder, record


def _train_texts(split: Any, limit: int | None, seed: int) -> list[str]:
    order = np.random.default_rng(seed).permutation(len(split))
    indices = np.sort(order[:limit]) if limit else np.arange(len(split))
    return split.texts(indices)


def load_causal_lm(name: str, settings: Settings):
    """A Hugging Face causal LM and its tokenizer by hub name (distilgpt2, HuggingFaceTB/SmolLM2-135M, ...; fetched
    into the Hugging Face cache when online) or by a folder saved with `save_pretrained`; refused with what to do when
    neither a folder nor the cache has it."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from core.downloads import hub_offline
    from core.errors import ModelError
    from core.text.pretrained import load_quietly

    if not name:
        raise ModelError("a causal language model needs its hub name or folder (e.g. distilgpt2)")
    folder = Path(name).expanduser()
    if folder.is_dir() and not (folder / "config.json").is_file():
        raise ModelError(f"{folder} has no config.json; save the model with model.save_pretrained(folder) and its "
                         "tokenizer with tokenizer.save_pretrained(folder)")
    source, offline = str(folder) if folder.is_dir() else name, hub_offline(settings)
    try:
        model = load_quietly(lambda: AutoModelForCausalLM.from_pretrained(source, local_files_only=offline))
        tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=offline)
    except (OSError, ValueError) as exc:
        where = "offline and not in the Hugging Face cache" if offline else "not found on the hub"
        raise ModelError(f"causal language model {name!r} cannot be loaded: {where} ({str(exc).splitlines()[0]}); "
                         "give a folder saved with save_pretrained, or run once online to fill the cache") from None
    return model.eval(), tokenizer
