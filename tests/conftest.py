"""Shared fixtures: an isolated data directory per test, offline, with one shared model and dataset cache."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Nothing reaches for the Hugging Face hub: set before transformers is imported (it reads these once), and
# inherited by every subprocess a test starts.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

TINY_MODEL = "lenet5:epochs=1,train_limit=1024"
FAST_TIMING = {"warmup": 1, "warmup_seconds": 0.0, "min_repeats": 5, "min_seconds": 0.0}


CACHE_FOLDERS = ("models", "datasets")  # what a data directory caches: trained weights, unpacked datasets


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """One model and dataset cache for the whole session, so tiny models are trained once."""
    cache = tmp_path_factory.mktemp("inferscope-cache")
    for folder in (*CACHE_FOLDERS, "torch"):
        (cache / folder).mkdir()
    return cache


@pytest.fixture(autouse=True)
def isolated_env(shared_cache, tmp_path, monkeypatch):
    """Every test: offline, its own data directory and database, the session's model and dataset cache.

    The data directory is the test's own (uploads, exports, the worker lock and log), so nothing one
    test leaves there is seen by the next; only the caches are linked in. A test that writes into a
    cache or checks how caching behaves takes `private_cache` instead.
    """
    home = tmp_path / "home"
    home.mkdir()
    for folder in CACHE_FOLDERS:
        (home / folder).symlink_to(shared_cache / folder, target_is_directory=True)
    monkeypatch.setenv("INFERSCOPE_HOME", str(home))
    monkeypatch.setenv("INFERSCOPE_DB", f"sqlite:///{tmp_path / 'runs.db'}")
    monkeypatch.setenv("INFERSCOPE_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(shared_cache / "torch"))
    monkeypatch.delenv("INFERSCOPE_FASHION_MNIST_DIR", raising=False)
    # Tests never depend on a quiet machine (a test's own browser or worker runs beside its timing);
    # the test of noisy runs sets the threshold it needs.
    monkeypatch.setenv("INFERSCOPE_NOISY_CPU_PCT", "100000")
    yield
    stop_workers_of(home)


def stop_workers_of(home: Path) -> None:
    """End worker processes a test started for its data directory: a leftover one would hold the
    machine-wide measurement lock and make the next tests wait."""
    import psutil

    for process in psutil.process_iter(["cmdline"]):
        try:
            if "worker" in (process.info["cmdline"] or []) and \
                    process.environ().get("INFERSCOPE_HOME") == str(home):
                process.terminate()
                process.wait(timeout=20)
        except (psutil.Error, OSError):
            continue


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """Empty model, dataset and torch caches of the test's own, in place of the session's."""
    home = tmp_path / "home"
    for folder in CACHE_FOLDERS:
        (home / folder).unlink()
        (home / folder).mkdir()
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return home


@pytest.fixture
def settings():
    from core.settings import load_settings

    return load_settings()


@pytest.fixture
def api():
    from core.api import InferScope

    return InferScope()


@pytest.fixture
def run_request():
    """Build a RunRequest for the tiny model with fast timing."""
    from core.api import RunRequest

    def make(*techniques: str, **overrides):
        fields = {"model": TINY_MODEL, "dataset": "fashion-mnist", "subset": 200, "techniques": techniques,
                  "timing": dict(FAST_TIMING)}
        fields.update(overrides)
        return RunRequest(**fields)
    return make


def subprocess_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The current (test) environment for `python -m core` subprocesses."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.update(extra or {})
    return env


@pytest.fixture(scope="session")
def tiny_text_model(tmp_path_factory) -> str:
    """A tiny BERT classifier and its trained tokenizer saved in a folder; its model spec for runs."""
    from core.datasets import load_dataset
    from core.settings import load_settings
    from tests.fakes.tiny_text import save_tiny_text_classifier

    dataset = load_dataset("bbc-news-headlines", load_settings(), None)
    folder = save_tiny_text_classifier(tmp_path_factory.mktemp("tiny-bert"), dataset.train.items)
    return f"huggingface:id={folder}"


@pytest.fixture(scope="session")
def tiny_causal_lm(tmp_path_factory) -> str:
    """A tiny GPT-2 with random weights and its trained BPE tokenizer saved in a folder; its model spec for runs
    (short prompts and continuations)."""
    from core.datasets import load_dataset
    from core.settings import load_settings
    from tests.fakes.tiny_lm import GENERATION, save_tiny_causal_lm

    dataset = load_dataset("bbc-news-articles", load_settings(), None)
    folder = save_tiny_causal_lm(tmp_path_factory.mktemp("tiny-gpt2"), dataset.evaluation.items[:50])
    return f"causal-lm:id={folder},{GENERATION}"
