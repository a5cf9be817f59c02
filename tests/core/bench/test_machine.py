"""One measurement per machine, and the contention stamp: real processes, a real lock file."""
import json
import os
import re
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


def hold_in_another_process(seconds: float, home=None) -> subprocess.Popen:
    env = {**os.environ, **({"INFERSCOPE_HOME": str(home)} if home else {})}
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(seconds)], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              env=env)
    assert holder.stdout.readline().strip() == "held"
    return holder


def held_by(lock_file) -> str:
    return json.loads(lock_file.read_text())["holder"]


def test_a_second_process_waits_and_says_for_whom(lock_file, tmp_path, monkeypatch):
    holder = hold_in_another_process(1.5, home=tmp_path / "elsewhere")
    stages = []
    start = time.monotonic()
    with machine.machine_lock("run 42", lambda stage, fraction: stages.append(stage)):
        waited = time.monotonic() - start
        assert held_by(lock_file) == "run 42"
    holder.wait(timeout=10)
    assert waited >= 1.0 and stages and len(set(stages)) == 1
    # the holder named so a user can find it: its work, its data directory, its process and since when
    stage = stages[0]
    assert re.fullmatch(rf"waiting for run 41 · pid {holder.pid} \(python -c .*\) since \d\d:\d\d:\d\d · "
                        r"data directory .*/elsewhere", stage), stage
    assert len(stage) <= machine.STAGE_LIMIT
    assert lock_file.read_text() == ""  # released: no holder named


def test_a_holder_of_this_data_directory_says_so(lock_file):
    holder = hold_in_another_process(1.0)
    stages = []
    with machine.machine_lock("diagnosis 3", lambda stage, fraction: stages.append(stage)):
        pass
    holder.wait(timeout=10)
    assert stages[0].startswith(f"waiting for run 41 · pid {holder.pid} (python")
    assert stages[0].endswith(" · this data directory")
    assert machine.holder_words("run 9") == "run 9"  # a lock file an older InferScope wrote


def test_the_lock_is_reentrant_in_one_process_and_a_cancel_ends_the_wait(lock_file):
    with machine.machine_lock("run 1"):
        with machine.machine_lock("run 1, its curve"):  # nested work of the same measurement
            assert held_by(lock_file) == "run 1"
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
