"""How long the default local model takes to train here, and how accurate it gets.

Targets (issue 2): training the default model takes <= 180 s on 2 cores; the best local model reaches
>= 90% top-1 on the Fashion-MNIST test split. Trains in a fresh temporary cache, never the user's.

    .venv/bin/python benchmarks/train_time.py [--arch resnet8 ...]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_SECONDS = 180.0
TARGET_TOP1 = 90.0


def main() -> int:
    from core.models import DEFAULT_MODEL

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", action="append", help=f"architectures to train (default: {DEFAULT_MODEL})")
    args = parser.parse_args()
    archs = args.arch or [DEFAULT_MODEL]
    with tempfile.TemporaryDirectory() as home:
        os.environ["INFERSCOPE_HOME"] = home
        from core.models import build_model, parse_model
        from core.progress import TqdmProgress
        from core.settings import load_settings

        print("| model | epochs | train time (s) | test top-1 (%) | threads |")
        print("|---|---|---|---|---|")
        ok = True
        for arch in archs:
            start = time.perf_counter()
            bar = TqdmProgress()
            model = build_model(parse_model(arch), load_settings(), bar)
            bar.close()
            wall = time.perf_counter() - start
            record = _record(Path(home), arch)
            print(f"| {arch} | {record['epochs']} | {record['train_seconds']:.0f} (total {wall:.0f}) | "
                  f"{record['test_top1']:.2f} | {record['threads']} |", flush=True)
            if arch == DEFAULT_MODEL:
                ok &= record["train_seconds"] <= TARGET_SECONDS and record["test_top1"] >= TARGET_TOP1
            del model
    print(f"default model within targets (<= {TARGET_SECONDS:.0f} s, >= {TARGET_TOP1}%): {'yes' if ok else 'NO'}")
    return 0 if ok else 1


def _record(home: Path, arch: str) -> dict:
    import json

    (path,) = (home / "models" / "local").glob(f"{arch}-*.json")
    return json.loads(path.read_text())


if __name__ == "__main__":
    sys.exit(main())
