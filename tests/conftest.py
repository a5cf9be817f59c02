"""Shared fixtures: an isolated data directory per test, offline, with one shared model cache."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TINY_MODEL = "lenet5:epochs=1,train_limit=1024"
FAST_TIMING = {"warmup": 1, "min_repeats": 5, "min_seconds": 0.0}


@pytest.fixture(scope="session")
def shared_home(tmp_path_factory) -> Path:
    """One data directory for the whole session, so tiny models are trained once."""
    return tmp_path_factory.mktemp("inferscope-home")


@pytest.fixture(autouse=True)
def isolated_env(shared_home, tmp_path, monkeypatch):
    """Every test: offline, shared model cache, its own database file."""
    monkeypatch.setenv("INFERSCOPE_HOME", str(shared_home))
    monkeypatch.setenv("INFERSCOPE_DB", f"sqlite:///{tmp_path / 'runs.db'}")
    monkeypatch.setenv("INFERSCOPE_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(shared_home / "torch"))
    monkeypatch.delenv("INFERSCOPE_FASHION_MNIST_DIR", raising=False)
    yield


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
