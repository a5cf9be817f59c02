import random

from hypothesis import given, settings
from hypothesis import strategies as st

from core.pareto import Direction, dominates, front_indices, pareto_front

MIN, MAX = Direction.MIN, Direction.MAX


def brute_force(points, directions):
    return sorted(i for i, p in enumerate(points)
                  if not any(dominates(q, p, directions) for j, q in enumerate(points) if j != i))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 3)), max_size=40),
       st.lists(st.sampled_from([MIN, MAX]), min_size=3, max_size=3))
def test_front_matches_brute_force(points, directions):
    assert front_indices(points, directions) == brute_force(points, directions)


def test_random_float_points_match_brute_force():
    rng = random.Random(0)
    for _ in range(50):
        points = [(rng.random(), rng.random()) for _ in range(rng.randint(1, 60))]
        assert front_indices(points, [MIN, MAX]) == brute_force(points, [MIN, MAX])


def test_equal_points_do_not_dominate_each_other():
    assert front_indices([(1.0, 90.0), (1.0, 90.0), (2.0, 80.0)], [MIN, MAX]) == [0, 1]


def test_directions_matter():
    points = [(1.0, 1.0), (2.0, 2.0)]
    assert front_indices(points, [MIN, MIN]) == [0]
    assert front_indices(points, [MIN, MAX]) == [0, 1]
    assert front_indices(points, [MAX, MAX]) == [1]


def test_rows_missing_a_metric_are_left_out():
    rows = [{"latency_p50_ms": 1.0, "top1": None}, {"latency_p50_ms": 2.0, "top1": 80.0},
            {"latency_p50_ms": 3.0, "top1": 70.0}]
    assert pareto_front(rows, ["latency_p50_ms", "top1"]) == [1]
