"""The reliability figures of docs/reliability.md: run the fault-and-abuse suite and count what it proved.

    .venv/bin/python benchmarks/reliability.py

Runs `pytest tests/reliability` (bad inputs, injected faults, concurrent processes; PostgreSQL too when
INFERSCOPE_TEST_POSTGRES_URL is set) and prints: bad inputs tried, faults injected, runs written
concurrently, rows lost. Exits 1 when any case failed.
"""
from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    from tests.reliability.test_concurrency import RUNS_EACH, WRITERS

    report = Path(tempfile.mkdtemp()) / "reliability.xml"
    completed = subprocess.run([sys.executable, "-m", "pytest", "tests/reliability", "-q", "-p", "no:logging",
                                "-p", "no:playwright", f"--junitxml={report}", "-s"], cwd=ROOT,
                               capture_output=True, text=True)
    cases = ElementTree.parse(report).getroot().iter("testcase")
    passed, failed = Counter(), Counter()
    for case in cases:
        kind = case.get("classname", "").rsplit(".", 1)[-1]
        if kind == "test_bad_inputs" and not case.get("name", "").startswith("test_a_bad_input"):
            kind = "checks"  # the count check and the path test are not bad inputs themselves
        kind = "test_bad_inputs" if kind == "test_bad_cli_inputs" else kind  # typed on the CLI: bad inputs too
        kind = "test_faults" if kind == "test_store_outage" else kind       # the store away for a while: faults
        (failed if case.find("failure") is not None or case.find("error") is not None else passed)[kind] += 1
    backends = re.findall(r"(sqlite|postgres): (\d+) runs written by \d+ processes, \d+ concurrent reads, (\d+) lost",
                          completed.stdout)
    rows = {
        "bad inputs tried (refused with what to do, nothing stored)": passed["test_bad_inputs"],
        "faults injected (store consistent, app recovered)": passed["test_faults"],
        "security checks": passed["test_security"],
        f"runs written concurrently ({WRITERS} processes x {RUNS_EACH}, per backend)":
            ", ".join(f"{n} on {b}" for b, n, _ in backends) or "none",
        "rows lost": sum(int(lost) for *_, lost in backends) if backends else "n/a",
        "cases failed": sum(failed.values()),
    }
    for name, value in rows.items():
        print(f"{name:70} {value}")
    if failed:
        print(completed.stdout[-4000:])
    return 1 if failed or completed.returncode else 0


if __name__ == "__main__":
    raise SystemExit(main())
