"""The shareable HTML report: one file, plotly inline, every section, readable offline."""
import re

from tests.core.test_cli import cli
from tests.seed import seed_runs


def test_a_report_holds_every_section_and_needs_no_network(api, tmp_path):
    ids = seed_runs(api.store, 4, models=("resnet8",), noisy=(3,))
    diagnosis_id = api.store.create_diagnosis(ids[2], {"calls": 10}, "profile")
    api.store.start("diagnosis", diagnosis_id)
    api.store.end("diagnosis", diagnosis_id, "done", nodes=[], summary={"engine": "onnx", "calls": 10, "batch": 1, "quantized": False,
                                                  "operators_ms_per_call": 0.1, "wall_ms_per_call": 0.12,
                                                  "op_types": [{"op_type": "Conv", "precision": "float",
                                                                "ms_per_call": 0.1, "share_pct": 100.0}]})
    text = api.report(ids)
    for section in ("Speed and quality", f"Metrics against run {ids[0]}", "Settings that differ",
                    "The doctor's notes", "Diagnoses", "Where the time went (profile", "Environments"):
        assert section in text, section
    assert all(f"<b>run {i}</b>" in text for i in ids) and "(timed on a busy machine)" in text
    assert "plotly" in text.lower() and len(text) > 1_000_000  # plotly.js is inside the file
    assert not re.search(r"<script[^>]+src=", text)  # nothing fetched from the network

    out = tmp_path / "report.html"
    assert "readable offline" in cli("report", *map(str, ids), "-o", str(out), check=0).stdout
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")
    assert "is a folder" in cli("report", str(ids[0]), "-o", str(tmp_path), check=2).stderr
    assert "no run with id 999" in cli("report", "999", "-o", str(out), check=3).stderr
