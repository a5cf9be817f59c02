import random

from hypothesis import given, settings
from hypothesis import strategies as st

from core.pareto import Direction, dominates, front_indices

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
    """The one front path (Results chart, `python -m core front`) leaves out runs missing a metric."""
    from core import views
    from tests.core.explore.test_analysis import run

    missing = run(1, 1.0, None)
    points = views.plot_points([missing, run(2, 2.0, 80.0), run(3, 3.0, 70.0)], "latency_p50_ms", "top1")
    assert [(p.run.id, p.on_front) for p in points] == [(2, True), (3, False)]
