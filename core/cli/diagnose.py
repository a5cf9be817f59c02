"""Diagnoses and reports: where an INT8 run's accuracy went, where a run's time goes, one HTML file."""
from __future__ import annotations

import argparse
import json

from core.cli.output import add_run_command, ended, open_api, print_table
from core.errors import ConfigError, StoreError
from core.options import given

TITLE = "Diagnoses and reports"  # how docs/cli.md heads this group


def cmd_diagnose(args) -> int:
    from core.api import SETTINGS
    from core.progress import TqdmProgress

    api = open_api(args)
    with TqdmProgress() as bar:
        record = api.diagnose(args.run_id, given(args, SETTINGS["diagnose"]), bar)
    if args.json:
        print(json.dumps(record.to_json(), indent=2))
    elif record.status == "done":
        summary = record.summary
        print(f"run {record.run_id}: {summary['metric']} {summary['int8']:.2f}% in INT8, {summary['float']:.2f}% in "
              f"FP32; {summary['quantized_nodes']} quantized nodes compared on {summary['images_compared']} "
              "calibration images (most sensitive first)")
        print_table([{**n, "recovered": "-" if n["recovered"] is None else f"{n['recovered']:+.2f}"}
                     for n in record.nodes], ["node", "op_type", "sqnr_db", "noise_added_pct", "recovered"])
        keep = record.most_sensitive(3)
        if keep:
            print(f"to keep them in float: --technique ort_static_int8:keep_float={'/'.join(keep)}")
    return ended(f"diagnosis {record.id}", record.status, record.error)


def cmd_profile(args) -> int:
    from core import doctor, wording
    from core.api import SETTINGS
    from core.progress import TqdmProgress

    api = open_api(args)
    with TqdmProgress() as bar:
        record = api.diagnose(args.run_id, given(args, SETTINGS["profile"]), bar, kind="profile")
    if args.json:
        print(json.dumps(record.to_json(), indent=2))
    elif record.status == "done":
        s = record.summary
        print(f"run {record.run_id}: {wording.profile_words(s)}")
        print_table(s["op_types"], ["op_type", "precision", "ms_per_call", "share_pct"])
        print("\nslowest nodes:")
        print_table(record.nodes, ["node", "op_type", "ms_per_call", "share_pct"])
        for finding in doctor.profile_advice(s):
            print(f"doctor: {finding.words()}")
    return ended(f"profile {record.id}", record.status, record.error)


def cmd_report(args) -> int:
    from pathlib import Path

    path = Path(args.output)
    if path.is_dir():
        raise ConfigError(f"{path} is a folder; give a file name, e.g. {path / 'report.html'}")
    text = open_api(args).report(args.run_ids)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc.strerror}") from None
    print(f"wrote {path} ({len(text) / 1e6:.1f} MB, readable offline)")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """This group's commands and their flags."""
    from core.api import SETTINGS

    add_run_command(sub, "diagnose", "where an INT8 run's accuracy went: each quantized node's error and the "
                                     "accuracy it recovers kept in float", cmd_diagnose, SETTINGS["diagnose"])
    add_run_command(sub, "profile", "where a run's time goes: operator times from its runtime's own profiler "
                                    "(onnxruntime's, OpenVINO's or torch's), by type and node", cmd_profile,
                    SETTINGS["profile"])
    p = sub.add_parser("report", help="one self-contained HTML file about some runs: chart, comparison, diagnoses, "
                                      "environments")
    p.add_argument("run_ids", type=int, nargs="+", metavar="RUN_ID")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_report)
