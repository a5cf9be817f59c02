"""Paired re-measurement with real runs of a tiny model: in process, through the worker, and on the CLI."""
import json
import subprocess
import sys

import pytest

from core import jobs
from core.errors import ConfigError
from core.settings import load_settings
from tests.conftest import ROOT, subprocess_env

FAST_PAIRS = {"rounds": 20, "block_ms": 10.0, "warmup_ms": 5.0}


@pytest.fixture
def three_runs(api, run_request):
    """An FP32 baseline, the same configuration again, and an ONNX Runtime INT8 variant; all done."""
    ids = [api.submit(run_request()), api.submit(run_request()),
           api.submit(run_request("onnx_export", "ort_static_int8:calibration_size=32"))]
    for run_id in ids:
        assert api.execute(run_id).status == "done"
    return ids


def test_identical_configurations_show_no_difference_and_the_reference_defaults_to_fp32(api, three_runs):
    baseline, same, int8 = three_runs
    # A generous noise threshold: two builds of one configuration may differ by a few % on a busy CI host.
    record = api.remeasure([int8, same, baseline], values={**FAST_PAIRS, "noise_pct": 10.0})
    assert record.status == "done" and record.reference_id == baseline  # the oldest FP32 baseline among them
    results = {r["run_id"]: r for r in record.results}
    assert results[same]["verdict"] == "no difference", results[same]
    assert results[int8]["ci_low"] <= results[int8]["ratio"] <= results[int8]["ci_high"]
    assert all(len(medians) == FAST_PAIRS["rounds"] for medians in record.blocks.values())
    assert record.note is None and not record.noisy  # the tests' noise threshold


def test_a_queued_comparison_runs_in_the_worker_and_bad_requests_are_refused(api, three_runs):
    baseline, same, _ = three_runs
    comparison_id = api.request_comparison([baseline, same], baseline, FAST_PAIRS)
    assert jobs.run_worker(load_settings(), api.store) == 1
    assert api.comparisons(same)[-1].id == comparison_id and api.comparisons(same)[-1].status == "done"
    with pytest.raises(ConfigError, match="at least two different runs"):
        api.request_comparison([baseline, baseline])
    with pytest.raises(ConfigError, match="the reference run 999 is not among the runs"):
        api.request_comparison([baseline, same], 999)
    with pytest.raises(ConfigError, match="Rounds must be at least 3"):
        api.request_comparison([baseline, same], values={"rounds": 1})


def test_the_cli_prints_each_ratio_with_its_interval(three_runs):
    baseline, _, int8 = three_runs
    result = subprocess.run([sys.executable, "-m", "core", "remeasure", str(baseline), str(int8), "--rounds", "10",
                             "--block-ms", "5", "--json"], cwd=ROOT, env=subprocess_env(), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    (paired,) = [r for r in record["results"] if r["run_id"] == int8]
    assert record["reference_id"] == baseline and paired["verdict"] in ("faster", "slower", "no difference")
