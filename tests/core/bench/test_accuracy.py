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


def test_one_tie_rule_for_top1_top5_agreement_and_predictions():
    """Exactly tied top logits (common in INT8 models) rank the lower class index first, everywhere."""
    from core.bench.accuracy import predicted, ranked

    tied = np.array([[0.0, 2.0, 2.0, 1.0], [3.0, 3.0, 3.0, 3.0], [1.0, 0.0, 5.0, 5.0]], dtype=np.float32)
    assert predicted(tied).tolist() == [1, 0, 2]
    assert ranked(tied, 2).tolist() == [[1, 2], [0, 1], [2, 3]]
    assert (ranked(tied, 1)[:, 0] == predicted(tied)).all()
    # top-1 counts the same class the stored prediction names: label 1 hits row 0, label 2 misses it
    assert top_k(tied, np.array([1, 0, 2]), 1).percent == 100.0
    assert top_k(tied, np.array([2, 1, 3]), 1).percent == 0.0
    assert top_k(tied, np.array([2, 1, 3]), 2).percent == 100.0
    # agreement with a reference takes the same rule on both sides
    reference = np.array([[0.0, 1.0, 0.5, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]], dtype=np.float32)
    assert fidelity(tied, reference).agreement.percent == 100.0


def test_tie_rule_matches_argmax_on_many_random_ties():
    from core.bench.accuracy import predicted, ranked

    rng = np.random.default_rng(0)
    logits = rng.integers(0, 3, size=(500, 10)).astype(np.float32)  # many exact ties
    labels = rng.integers(0, 10, size=500)
    assert (ranked(logits, 5)[:, 0] == logits.argmax(1)).all()
    assert top_k(logits, labels, 1).percent == pytest.approx(100 * np.mean(predicted(logits) == labels))
