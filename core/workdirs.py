"""Work folders: where a job's steps write their intermediate files (exported, prepared and quantized graphs,
profiles), under the data directory, removed when the job ends however it ends.

A job killed outright (SIGKILL, a lost machine) cannot remove its folder; its name carries the process id,
so the next job on this data directory sweeps every folder whose process is gone.
"""
from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.settings import Settings

WORK_FOLDER = "work"
_OWNER = re.compile(r"-pid(\d+)-")


def work_root(settings: Settings) -> Path:
    return settings.home / WORK_FOLDER


def _alive(pid: int) -> bool:
    import psutil

    return psutil.pid_exists(pid)


def sweep(settings: Settings) -> list[Path]:
    """Remove the work folders of processes that are gone (killed jobs); returns what was removed."""
    root = work_root(settings)
    removed = []
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        owner = _OWNER.search(folder.name)
        if folder.is_dir() and owner and not _alive(int(owner.group(1))):
            _remove(folder)
            removed.append(folder)
    return removed


def _remove(folder: Path) -> None:
    def report(function, path, excinfo) -> None:  # a file we cannot delete is worth a line in the log, not a failure
        print(f"could not remove {path} from the work folder: {excinfo[1]}", file=sys.stderr, flush=True)

    shutil.rmtree(folder, onerror=report)  # Python 3.11 has no onexc


@contextmanager
def job_folder(settings: Settings, job: str) -> Iterator[Path]:
    """A fresh folder for one job (`job`: e.g. "run-12"), removed when the block ends, failed or cancelled too.

    Sweeps the leftovers of killed jobs first.
    """
    sweep(settings)
    root = work_root(settings)
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{re.sub(r'[^A-Za-z0-9_.]+', '-', job)}-pid{os.getpid()}-", dir=root))
    try:
        yield folder
    finally:
        _remove(folder)
