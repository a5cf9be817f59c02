"""Work folders live under the data directory and go with their job: done, failed, cancelled or killed."""
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from core import workdirs
from core.settings import load_settings
from tests.conftest import ROOT, subprocess_env
from tests.helpers import wait_for

INT8 = ("onnx_export", "ort_static_int8:calibration_size=8")


def folders(root: Path) -> list[Path]:
    return sorted(root.iterdir()) if root.is_dir() else []


def system_temp_leftovers() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("inferscope-*") if p.is_dir()}


def test_a_done_and_a_failed_run_leave_no_work_folder(api, run_request, monkeypatch):
    root = workdirs.work_root(load_settings())
    before = system_temp_leftovers()
    seen: list[list[Path]] = []
    run = api.execute(api.submit(run_request(*INT8)), lambda stage, f: seen.append(folders(root)))
    assert run.status == "done"
    assert any(seen), "the static INT8 build wrote its graphs in a work folder under the data directory"
    assert folders(root) == []

    def boom(*args, **kwargs):
        raise RuntimeError("calibration exploded")

    monkeypatch.setattr("onnxruntime.quantization.quantize_static", boom)
    failed = api.execute(api.submit(run_request(*INT8)))
    assert failed.status == "failed" and "calibration exploded" in failed.error
    assert folders(root) == []
    assert system_temp_leftovers() <= before  # nothing new in the system's temporary folder


def test_a_cancelled_run_leaves_no_work_folder(api, run_request):
    from core.errors import RunCancelled

    root = workdirs.work_root(load_settings())

    def cancel_at_quantize(stage, fraction):
        if stage == "ort_static_int8" and folders(root):
            raise RunCancelled("cancelled by the user during ort_static_int8")

    with pytest.raises(RunCancelled):
        api.execute(api.submit(run_request(*INT8)), cancel_at_quantize)
    assert folders(root) == []


def test_a_killed_jobs_folder_is_swept_at_the_next_start(api, run_request):
    root = workdirs.work_root(load_settings())
    run_id = api.submit(run_request(*INT8, timing={"min_seconds": 300, "max_seconds": 600}))
    worker = subprocess.Popen([sys.executable, "-m", "core", "worker"], cwd=ROOT, env=subprocess_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: api.run(run_id).stage == "time", what="the timing stage")
        left = folders(root)
        assert len(left) == 1 and f"-pid{worker.pid}-" in left[0].name
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        worker.kill()
    assert folders(root) == left  # a killed process cleans nothing up
    assert api.execute(api.submit(run_request())).status == "done"
    assert folders(root) == []  # the next job swept it


def test_a_live_jobs_folder_is_not_swept(settings):
    with workdirs.job_folder(settings, "run 7") as mine:
        assert mine.parent == workdirs.work_root(settings) and mine.name.startswith("run-7-pid")
        (mine / "float.onnx").write_bytes(b"x")
        with workdirs.job_folder(settings, "export-7") as nested:  # another job of this live process
            assert mine.is_dir() and nested.is_dir()
        assert not nested.exists() and mine.is_dir()
    assert not mine.exists()
