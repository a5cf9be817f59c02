"""The machine's peaks, measured once per environment, and a run's share of the peak for its precision."""
import json

import pytest

from core import views
from core.bench import roofline
from core.techniques import recipe_precision


def test_peaks_are_measured_once_per_fingerprint_and_read_back(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(roofline, "measure_peaks", lambda: calls.append(1) or {"fp32": 100.0, "bf16": None,
                                                                                "int8": 400.0})
    first = roofline.peaks(tmp_path, "abc")
    assert roofline.peaks(tmp_path, "abc") == first == {"fp32": 100.0, "bf16": None, "int8": 400.0}
    assert len(calls) == 1 and json.loads((tmp_path / "peaks-abc.json").read_text()) == first
    (tmp_path / "peaks-abc.json").write_text("{broken")
    assert roofline.peaks(tmp_path, "abc") == first and len(calls) == 2  # a damaged file is measured again


def test_a_short_real_measurement_orders_the_precisions_sensibly():
    found = roofline.measure_peaks(size=256, seconds=0.05)
    assert found["fp32"] > 0 and all(v is None or v > 0 for v in found.values())


def test_a_run_is_set_against_the_peak_of_its_precision(api, run_request):
    run = api.execute(api.submit(run_request("onnx_export", "ort_static_int8")))
    row = views.roofline_row(run)
    peaks = run.environment["peaks_gops"]
    assert row["precision"] == "int8" and row["peak GOP/s"] == peaks["int8"]
    expected = run.environment["model_gflops"] * run.metrics["throughput_ips"]
    assert row["achieved GOP/s"] == pytest.approx(expected)
    if expected <= peaks["int8"]:
        assert row["share of peak %"] == pytest.approx(100 * expected / peaks["int8"]) and row["note"] == ""
    else:  # a CPU without VNNI: torch's INT8 GEMM is slower than the model, so it is no peak
        assert row["share of peak %"] is None and "the peak is unknown" in row["note"]
    assert recipe_precision([{"technique": "bf16"}]) == "bf16"
    assert recipe_precision([{"technique": "onnx_export"}, {"technique": "fp16"}]) == "fp32"


def test_a_model_faster_than_the_microbenchmark_gets_no_share_of_a_false_peak():
    """Seen on an AVX2 CPU without VNNI: torch's INT8 GEMM measured 3 GOP/s, a QDQ ResNet-18 ran at 149: 5,900%."""
    assert roofline.achieved(1.8, 83.0, 3.0) == (pytest.approx(149.4), None)
    assert roofline.achieved(1.8, 83.0, 400.0) == (pytest.approx(149.4), pytest.approx(37.35))
    assert roofline.beyond_peak(149.4, 3.0) and not roofline.beyond_peak(149.4, 400.0)
    assert not roofline.beyond_peak(149.4, None)
