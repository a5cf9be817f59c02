"""Where InferScope keeps its files, read from the environment once per call."""
from __future__ import annotations

import math
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
    worker_cpus: tuple[int, ...] | None = None  # INFERSCOPE_WORKER_CPUS=1 or 2-3: the cores the worker may use
    # INFERSCOPE_NOISY_CPU_PCT: a run is noisy when other processes (or steal) used more than this share of
    # one core, in %, on average while it timed
    noisy_cpu_pct: float = 25.0
    # INFERSCOPE_STORE_RETRY_S: how long a job waits for a store that stopped answering (a database restart, a
    # locked file) before it gives up, in seconds
    store_retry_s: float = 300.0

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
                    autostart_worker=env.get("INFERSCOPE_AUTOSTART_WORKER", "1").lower() not in {"0", "false", "no"},
                    worker_cpus=parse_cpu_list(env.get("INFERSCOPE_WORKER_CPUS", ""), "INFERSCOPE_WORKER_CPUS"),
                    noisy_cpu_pct=_non_negative(env.get("INFERSCOPE_NOISY_CPU_PCT", "25"), "INFERSCOPE_NOISY_CPU_PCT",
                                                "a share of one core, in %"),
                    store_retry_s=_non_negative(env.get("INFERSCOPE_STORE_RETRY_S", "300"), "INFERSCOPE_STORE_RETRY_S",
                                                "seconds"))


def _non_negative(text: str, name: str, unit: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{name}={text!r} must be a non-negative number ({unit})")
    return value


def parse_cpu_list(text: str, name: str) -> tuple[int, ...] | None:
    """"1" or "0,2-3" -> (1,) or (0, 2, 3); empty -> None. Refused when a core is not one this process may use."""
    if not text.strip():
        return None
    cpus: set[int] = set()
    try:
        for part in filter(None, (p.strip() for p in text.split(","))):
            low, _, high = part.partition("-")
            cpus.update(range(int(low), int(high or low) + 1))
    except ValueError:
        raise ConfigError(f"{name}={text!r} is not a list of cores; write e.g. 1 or 0,2-3") from None
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set(range(os.cpu_count() or 1))
    if not cpus or not cpus <= allowed:
        raise ConfigError(f"{name}={text!r} names cores this machine does not give InferScope; "
                          f"available: {','.join(map(str, sorted(allowed)))}")
    return tuple(sorted(cpus))


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
