import numpy as np
import pytest

from core.bench.accuracy import fidelity, top_k, wilson


def test_wilson_known_values():
    p = wilson(81, 100)  # reference: 0.7222 .. 0.8748
    assert p.percent == 81.0 and p.ci_low == pytest.approx(72.22, abs=0.01) and p.ci_high == pytest.approx(87.48, abs=0.01)
    edge = wilson(10, 10)
    assert edge.ci_high == pytest.approx(100.0) and 65 < edge.ci_low < 75


def test_top_k():
    logits = np.array([[0.1, 0.9, 0.0], [0.8, 0.05, 0.15], [0.2, 0.3, 0.5]])
    labels = np.array([1, 2, 0])
    assert top_k(logits, labels, 1).percent == pytest.approx(100 / 3)
    assert top_k(logits, labels, 2).percent == pytest.approx(200 / 3)
    assert top_k(logits, labels, 5).percent == 100.0


def test_fidelity():
    ref = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert fidelity(ref, ref).agreement.percent == 100 and fidelity(ref, ref).logit_cosine == pytest.approx(1.0)
    flipped = ref[:, ::-1]
    assert fidelity(flipped, ref).agreement.percent == 0 and fidelity(flipped, ref).logit_cosine == pytest.approx(0.0)
