"""One measurement per machine, and the contention stamp: real processes, a real lock file."""
import subprocess
import sys
import time

import pytest

from core.bench import machine
from tests.conftest import ROOT

HOLD = """
import sys, time
from core.bench.machine import machine_lock
with machine_lock("run 41"):
    print("held", flush=True)
    time.sleep(float(sys.argv[1]))
"""


@pytest.fixture
def lock_file(tmp_path, monkeypatch):
    """A lock of this test's own, so other tests' (or a developer's) runs cannot interfere."""
    path = tmp_path / "machine.lock"
    monkeypatch.setenv("INFERSCOPE_MACHINE_LOCK", str(path))
    return path


def hold_in_another_process(seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(seconds)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_process_waits_and_says_for_whom(lock_file):
    holder = hold_in_another_process(1.5)
    stages = []
    start = time.monotonic()
    with machine.machine_lock("run 42", lambda stage, fraction: stages.append(stage)):
        waited = time.monotonic() - start
        assert lock_file.read_text() == "run 42"
    holder.wait(timeout=10)
    assert waited >= 1.0 and stages and set(stages) == {"waiting for run 41"}
    assert lock_file.read_text() == ""  # released: no holder named


def test_the_lock_is_reentrant_in_one_process_and_a_cancel_ends_the_wait(lock_file):
    with machine.machine_lock("run 1"):
        with machine.machine_lock("run 1, its curve"):  # nested work of the same measurement
            assert lock_file.read_text() == "run 1"
    holder = hold_in_another_process(30)
    try:
        def cancel(stage, fraction):
            raise KeyboardInterrupt
        with pytest.raises(KeyboardInterrupt):
            with machine.machine_lock("run 2", cancel):
                pass
    finally:
        holder.kill()
        holder.wait()


def test_a_cpu_burning_neighbour_is_measured():
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        with machine.ContentionMeter() as meter:
            time.sleep(1.5)  # this process idles; the neighbour burns a core
    finally:
        burner.kill()
        burner.wait()
    assert meter.result.other_cpu_pct > 50
    note = machine.noise_note(meter.result, 25.0)
    assert note.startswith("noisy: while this run timed, other processes used") and "threshold 25%" in note
    assert machine.noise_note(meter.result, 10_000.0) is None
