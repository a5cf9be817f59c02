"""Bad inputs typed on the command line: exit 2 with the flag's or field's name and what is allowed, the
message as the last line of stderr (never under a progress bar, never a traceback), and nothing stored."""
from __future__ import annotations

import pytest

from core.api import InferScope
from tests.conftest import TINY_MODEL
from tests.core.test_cli import FAST, cli

RUN = ["run", "--model", TINY_MODEL, "--subset", "20", *FAST]
CASES = [
    (["run", "--min-seconds", "nan"], "argument --min-seconds: takes a finite number, not 'nan'"),
    (["run", "--max-seconds", "nan"], "argument --max-seconds: takes a finite number, not 'nan'"),
    (["run", "--min-seconds", "inf"], "argument --min-seconds: takes a finite number, not 'inf'"),
    ([*RUN, "--technique", "onnx_export", "--scenario", "server:rate=nan"],
     "server rate takes a finite number, not 'nan'"),
    ([*RUN, "--technique", "structured_prune:ratio=nan"], "structured_prune ratio takes a finite number"),
    ([*RUN, "--technique", "onnx_export", "--technique", "cache:repeat_ratio=nan"],
     "cache repeat ratio takes a finite number"),
    (["explore", "--model", TINY_MODEL, "--budget-runs", "4", "--max-drop", "nan"],
     "argument --max-drop: takes a finite number, not 'nan'"),
    (["curve", "1", "--growth", "inf"], "argument --growth: takes a finite number, not 'inf'"),
    (["explore", "--model", TINY_MODEL, "--budget-runs", "0", *FAST], "Budget (runs) must be at least 1"),
]


@pytest.mark.parametrize("args, message", CASES, ids=[" ".join(a[-2:]) for a, _ in CASES])
def test_a_bad_flag_or_option_exits_2_naming_it_and_stores_nothing(args, message):
    result = cli(*args)
    assert result.returncode == 2, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert message in last, result.stderr
    assert "Traceback" not in result.stderr
    assert InferScope().runs() == [] and InferScope().explorations() == []


def test_an_unknown_database_url_says_which_forms_work():
    result = cli("runs", env={"INFERSCOPE_DB": "bogus://user:secret@nowhere/db"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "names a database kind SQLAlchemy does not know ('bogus')" in last
    assert "sqlite:///" in last and "postgresql+psycopg://" in last and "psycopg[binary]" in last
    assert "secret" not in result.stderr  # the password is never printed


def test_export_to_a_folder_is_refused_before_the_rebuild(tmp_path):
    run_id = cli(*RUN, "--technique", "onnx_export", check=0).stdout.split()[-1]
    result = cli("export", run_id, "-o", str(tmp_path), check=2)
    last = result.stderr.strip().splitlines()[-1]
    assert f"{tmp_path} is a folder; give a file name, e.g. {tmp_path}/inferscope-run-{run_id}.onnx" in last
    assert "build" not in result.stderr  # refused before the model was rebuilt: no progress bar at all
