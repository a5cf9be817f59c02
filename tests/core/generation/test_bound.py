"""What bounds a decode step: weight bytes over the machine's bandwidth."""
from __future__ import annotations

import pytest

from core.generation.bound import bandwidth, decode_bound


def test_a_large_model_near_the_bandwidth_is_memory_bound():
    bound = decode_bound(497e6, 33.4, 18.0)  # GPT-2 small in FP32 at 33.4 ms a token, 18 GB/s
    assert bound.achieved_gbs == pytest.approx(14.88, rel=1e-3) and bound.memory_bound
    assert "memory-bound, so fewer weight bytes (INT8, INT4) should buy speed" in bound.words()


def test_a_small_model_far_from_it_is_overhead_bound():
    bound = decode_bound(17e6, 2.4, 18.0)
    assert not bound.memory_bound and bound.share_pct == pytest.approx(100 * 17e6 / 2.4e-3 / 1e9 / 18.0)
    assert "per-operator overhead" in bound.words() and "17 MB" in bound.words()


def test_the_bandwidth_is_measured_once_per_fingerprint(tmp_path):
    first = bandwidth(tmp_path, "abc")
    assert first > 0 and (tmp_path / "bandwidth-abc.json").is_file()
    (tmp_path / "bandwidth-abc.json").write_text('{"gbs": 1.5}')
    assert bandwidth(tmp_path, "abc") == 1.5


def test_nonsense_is_refused():
    with pytest.raises(ValueError):
        decode_bound(1e6, 0.0, 10.0)
