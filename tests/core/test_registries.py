"""A new quantizer and a new runtime are one module each (tests/fakes/): registered, they appear in the catalogue,
the exploration space, the doctor, the roofline and the profile with no other file touched — every place that
reasons about techniques and runtimes asks the registries, never a name."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.doctor import advise
from core.explore import default_space
from core.runtimes import RUNTIMES
from core.store import RunRecord
from core.techniques import TECHNIQUES, recipe_precision
from tests.fakes import fake_quantizer, fake_runtime


@pytest.fixture
def registered(monkeypatch):
    """The fakes in the registries for one test (a registry has no unregister: a plugin stays for its process)."""
    monkeypatch.setitem(TECHNIQUES._entries, fake_quantizer.TECHNIQUE.name, fake_quantizer.TECHNIQUE)
    monkeypatch.setitem(TECHNIQUES._entries, fake_runtime.TECHNIQUE.name, fake_runtime.TECHNIQUE)
    monkeypatch.setitem(RUNTIMES._entries, fake_runtime.KIND, fake_runtime.RUNTIME)


def _record(id: int, recipe: tuple[str, ...], p50: float) -> RunRecord:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return RunRecord(id=id, status="done", created_at=at, finished_at=at, model="m", model_source="local",
                     model_options={}, dataset="d", dataset_location=None, subset_size=10, subset_seed=0,
                     subset_split="test", calibration_split=None, recipe=[{"technique": t, "config": {}} for t in recipe],
                     runtime={"batch": 4}, scenario="single-stream", engine="onnxruntime", env_fingerprint="e",
                     environment={}, metrics={"latency_p50_ms": p50})


def test_a_registered_quantizer_reaches_the_catalogue_the_space_the_doctor_and_the_roofline(registered):
    from core.api import InferScope

    names = [t["name"] for t in InferScope.techniques()]
    assert "fake_int8" in names and "fakert" in names
    assert "fake_int8" in dict(default_space("onnx").axes)["quantize"]
    assert "fake_int8" in dict(default_space("torch").axes)["quantize"]  # after the export axis
    assert recipe_precision([{"technique": "onnx_export", "config": {}}, {"technique": "fake_int8", "config": {}}]) == "int8"
    before, after = _record(1, ("onnx_export",), 5.0), _record(2, ("onnx_export", "fake_int8"), 5.0)
    (finding,) = [f for f in advise(after, before, [before, after]) if f.rule == "dynamic_int8_on_convolutions"]
    assert finding.figure.startswith("fake_int8 is 1.00x the speed of run 1")


def test_a_registered_runtime_runs_and_is_profiled_by_its_own_profiler(api, run_request, registered):
    run = api.execute(api.submit(run_request("onnx_export", "fake_int8", "fakert")))
    assert run.status == "done", run.error
    assert run.engine == "fake-engine" and recipe_precision(run.recipe) == "int8"
    assert api.diagnosable(run, "profile") and not api.diagnosable(run, "sensitivity")
    diagnosis = api.diagnose(run.id, {"calls": 20}, kind="profile")
    assert diagnosis.status == "done", diagnosis.error
    assert diagnosis.summary["engine"] == fake_runtime.KIND and diagnosis.summary["quantized"] is True
    assert diagnosis.summary["int8_share_pct"] == pytest.approx(100.0)
    assert [row["op_type"] for row in diagnosis.summary["op_types"]] == ["FakeFusedOp"]
