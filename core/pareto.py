"""Pareto dominance with the metric catalogue's directions. Pure: no I/O, no store."""
from __future__ import annotations

from collections.abc import Sequence

from core.metrics import Direction


def dominates(a: Sequence[float], b: Sequence[float], directions: Sequence[Direction]) -> bool:
    """True when `a` is at least as good as `b` everywhere and strictly better somewhere."""
    better = False
    for x, y, direction in zip(a, b, directions):
        if direction is Direction.MAX:
            x, y = -x, -y
        if x > y:
            return False
        if x < y:
            better = True
    return better


def front_indices(points: Sequence[Sequence[float]], directions: Sequence[Direction]) -> list[int]:
    """Indices of the points no other point dominates (equal points all stay).

    Two objectives: one sorted sweep, O(n log n). More: each point is compared only with the front
    found so far, in lexicographic order (a dominating point always sorts first).
    """
    sign = [-1.0 if d is Direction.MAX else 1.0 for d in directions]
    if len(directions) == 2:
        return _front_2d([(sign[0] * p[0], sign[1] * p[1]) for p in points])
    order = sorted(range(len(points)), key=lambda i: [s * v for s, v in zip(sign, points[i])])
    front: list[int] = []
    for i in order:
        if not any(dominates(points[j], points[i], directions) for j in front):
            front.append(i)
    return sorted(front)


def _front_2d(points: Sequence[tuple[float, float]]) -> list[int]:
    """Front of points where both coordinates are minimized."""
    order = sorted(range(len(points)), key=lambda i: points[i])
    front: list[int] = []
    best_before = float("inf")  # lowest y among points with a strictly smaller x
    k = 0
    while k < len(order):
        x = points[order[k]][0]
        group = []
        while k < len(order) and points[order[k]][0] == x:
            group.append(order[k])
            k += 1
        group_best = points[group[0]][1]  # sorted by (x, y): the first has the lowest y
        front.extend(i for i in group if points[i][1] == group_best and best_before > group_best)
        best_before = min(best_before, group_best)
    return sorted(front)


__all__ = ["Direction", "dominates", "front_indices"]
