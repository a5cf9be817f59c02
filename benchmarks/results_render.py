"""Results page render time with 5,000 stored runs (AppTest, the whole script: query, front, plot, table).

Target (issue 3): under 2 s on this machine. The runs are synthetic (tests/seed.py) in a temporary
store; the first render warms imports and caches and is reported apart.

    .venv/bin/python benchmarks/results_render.py [--runs 5000] [--repeats 5]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TARGET_S = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ.update(INFERSCOPE_HOME=home, INFERSCOPE_DB=f"sqlite:///{home}/runs.db",
                          INFERSCOPE_AUTOSTART_WORKER="0")
        from streamlit.testing.v1 import AppTest

        from core.store import RunStore
        from tests.seed import seed_runs

        start = time.perf_counter()
        seed_runs(RunStore(os.environ["INFERSCOPE_DB"]), args.runs, models=("resnet8", "lenet5", "mobilenetv2-tiny"))
        print(f"seeded {args.runs} runs in {time.perf_counter() - start:.1f} s")
        times = []
        for i in range(args.repeats + 1):
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
            at.run()
            at.switch_page("pages/results.py")
            start = time.perf_counter()
            at.run()
            elapsed = time.perf_counter() - start
            assert not at.exception, at.exception
            assert len(at.dataframe[0].value) == args.runs
            if i == 0:
                print(f"first render (cold): {elapsed:.2f} s")
            else:
                times.append(elapsed)
        median = statistics.median(times)
        print(f"Results page with {args.runs} runs: median {median:.2f} s over {args.repeats} renders "
              f"(min {min(times):.2f}, max {max(times):.2f}); target < {TARGET_S} s: {'yes' if median < TARGET_S else 'NO'}")
    return 0 if median < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
