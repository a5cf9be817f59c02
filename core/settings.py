"""Where InferScope keeps its files, read from the environment once per call."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError

DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")


@dataclass(frozen=True)
class Settings:
    """Locations and switches. Each field maps to one environment variable."""

    home: Path                     # INFERSCOPE_HOME: data directory (store, trained models, downloads)
    db_url: str                    # INFERSCOPE_DB: any SQLAlchemy URL; default SQLite in home
    fashion_mnist_dir: Path | None  # INFERSCOPE_FASHION_MNIST_DIR: folder with the four idx files
    system_fashion_mnist_dir: Path  # INFERSCOPE_SYSTEM_FASHION_MNIST_DIR: Debian package location
    offline: bool                  # INFERSCOPE_OFFLINE=1: never try to download
    autostart_worker: bool         # INFERSCOPE_AUTOSTART_WORKER=0: queue only; run `python -m core worker` yourself

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def datasets_dir(self) -> Path:
        return self.home / "datasets"


def load_settings() -> Settings:
    """Read settings from the environment (no side effects)."""
    env = os.environ
    home = Path(env.get("INFERSCOPE_HOME") or Path.home() / ".inferscope").expanduser()
    db_url = env.get("INFERSCOPE_DB") or f"sqlite:///{home / 'inferscope.db'}"
    fm_dir = env.get("INFERSCOPE_FASHION_MNIST_DIR")
    system_dir = env.get("INFERSCOPE_SYSTEM_FASHION_MNIST_DIR") or DEBIAN_FASHION_MNIST_DIR
    return Settings(home=home, db_url=db_url,
                    fashion_mnist_dir=Path(fm_dir).expanduser() if fm_dir else None,
                    system_fashion_mnist_dir=Path(system_dir),
                    offline=env.get("INFERSCOPE_OFFLINE", "").lower() in {"1", "true", "yes"},
                    autostart_worker=env.get("INFERSCOPE_AUTOSTART_WORKER", "1").lower() not in {"0", "false", "no"})


def ensure_home(settings: Settings) -> Path:
    """Create the data directory and prove it is writable, or raise a clear error before any work."""
    home = settings.home
    try:
        home.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=home, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise ConfigError(
            f"the data directory {home} is not writable ({exc.strerror or exc}); "
            "set INFERSCOPE_HOME to a folder you can write to") from None
    return home
