import json

import onnx
import pytest
from sqlalchemy import text

from core.errors import InferScopeError, VerificationError


def test_export_writes_a_verified_file_with_metadata(api, run_request, tmp_path):
    run = api.execute(api.submit(run_request("onnx_export", "ort_static_int8:calibration_size=32")))
    result = api.export(run.id, tmp_path / "out" / "best.onnx")
    assert result.path.is_file() and result.metric == "top1" and abs(result.difference) <= 0.1
    model = onnx.load(str(result.path))
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["inferscope.recipe"])[1]["technique"] == "ort_static_int8"
    assert json.loads(meta["inferscope.metrics"])["top1"] == pytest.approx(run.metrics["top1"])
    assert "cpu" in json.loads(meta["inferscope.environment"])
    assert any(n.op_type == "QuantizeLinear" for n in model.graph.node)


def test_a_run_measured_in_openvino_exports_its_onnx_verified_in_openvino_with_its_settings(api, run_request,
                                                                                          tmp_path):
    run = api.execute(api.submit(run_request("onnx_export", "nncf_int8:calibration_size=32",
                                             "openvino:performance_hint=throughput")))
    assert run.status == "done", run.error
    result = api.export(run.id, tmp_path / "openvino.onnx")
    assert result.verified_with == "openvino" and abs(result.difference) <= 0.1
    model = onnx.load(str(result.path))
    assert any(n.op_type == "QuantizeLinear" for n in model.graph.node)
    measured = json.loads({p.key: p.value for p in model.metadata_props}["inferscope.measured_with"])
    assert measured["engine"] == "openvino" and measured["settings"]["performance_hint"] == "throughput"
    assert measured["settings"] == run.environment["runtime_settings"]


def test_export_of_an_eager_baseline_is_onnx_and_reusable_as_a_model(api, run_request, tmp_path):
    run = api.execute(api.submit(run_request()))
    path = api.export(run.id, tmp_path / "base.onnx").path
    again = api.execute(api.submit(run_request(model=str(path))))
    assert again.status == "done" and again.metrics["top1"] == pytest.approx(run.metrics["top1"], abs=0.5)


def test_export_fails_loudly_and_leaves_no_file(api, run_request, tmp_path):
    run = api.execute(api.submit(run_request("onnx_export")))
    with api.store.engine.begin() as conn:
        conn.execute(text("update runs set top1 = top1 - 5 where id = :id"), {"id": run.id})
    target = tmp_path / "bad.onnx"
    with pytest.raises(VerificationError, match="tolerance 0.1 points"):
        api.export(run.id, target)
    assert list(tmp_path.iterdir()) == [tmp_path / "runs.db", tmp_path / "runs.db-shm", tmp_path / "runs.db-wal"] \
        or not target.exists()
    assert not any(p.name.startswith(".bad.onnx") for p in tmp_path.iterdir())


def test_only_done_runs_export(api, run_request, tmp_path):
    run_id = api.submit(run_request())
    with pytest.raises(InferScopeError, match="is queued; only finished"):
        api.export(run_id, tmp_path / "x.onnx")
