"""The Results page's front chart: runs as points (colour = a chosen field, symbol = model), the front as a
step line, 95% intervals as error bars, noisy runs outlined and other environments hollow."""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import plotly.graph_objects as go

from core import views
from core.metrics import CATALOGUE, PER_CALL_METRICS
from core.store import RunRecord

NOISY_OUTLINE = "#f59e0b"  # amber: timed while other processes kept the machine busy
SYMBOLS = ["circle", "square", "diamond", "triangle-up", "cross", "x", "star", "hexagon", "pentagon", "triangle-down"]
PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777", "#4b5563",
           "#65a30d"]


def front_figure(points: Sequence[views.PlotPoint], x: str, y: str, *, group_of: Callable[[RunRecord], str],
                 legend_title: str, labels: dict[int, str], per_image: bool, log_x: bool) -> go.Figure:
    """The chart of `points` (x, y: metric names); `group_of` names each run's colour group."""
    figure = go.Figure()
    model_symbol = {m: SYMBOLS[i % len(SYMBOLS)] for i, m in enumerate(sorted({p.run.model for p in points}))}
    combos = sorted({group_of(p.run) for p in points})
    for i, combo in enumerate(combos):
        for allowed in (True, False):
            group = [p for p in points if group_of(p.run) == combo and p.allowed == allowed]
            if not group:
                continue
            low, high = CATALOGUE[y].interval
            error_y = dict(type="data", symmetric=False,
                           array=[(p.run.metrics.get(high) or p.y) - p.y for p in group],
                           arrayminus=[p.y - (p.run.metrics.get(low) or p.y) for p in group],
                           thickness=1, width=0)
            x_low, x_high = CATALOGUE[x].interval or (None, None)  # the percentile's 95% interval
            error_x = dict(type="data", symmetric=False, thickness=1, width=0,
                           array=[(p.run.metrics.get(x_high) or p.x / p.scale) * p.scale - p.x for p in group],
                           arrayminus=[p.x - (p.run.metrics.get(x_low) or p.x / p.scale) * p.scale
                                       for p in group]) if x_low else None
            figure.add_trace(go.Scatter(
                x=[p.x for p in group], y=[p.y for p in group], mode="markers", name=combo,
                legendgroup=combo, showlegend=allowed, error_y=error_y, error_x=error_x,
                marker=dict(size=11, color=PALETTE[i % len(PALETTE)] if allowed else "#c0c0c0",
                            symbol=[model_symbol[p.run.model] + ("" if p.comparable else "-open") for p in group],
                            line=dict(width=[3 if p.run.noisy else 1 for p in group],
                                      color=[NOISY_OUTLINE if p.run.noisy else "#1f2937" for p in group])),
                customdata=[hover_fields(p, x, labels) for p in group], hovertemplate=hover_template(x, y)))
    if any(p.run.noisy for p in points):  # a legend entry for the outline
        outline = dict(width=3, color=NOISY_OUTLINE)
        figure.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="noisy (busy machine)",
                                    marker=dict(size=11, color="rgba(0,0,0,0)", line=outline)))
    _derivation_arrows(figure, points, log_x)
    line = views.front_line(points, x)
    if line:
        figure.add_trace(go.Scatter(x=[p[0] for p in line], y=[p[1] for p in line], mode="lines", name="front",
                                    line=dict(shape="hv", color="#111827", width=2, dash="dot"), hoverinfo="skip"))
    x_title = CATALOGUE[x].label if x not in PER_CALL_METRICS else \
        CATALOGUE[x].label.replace("(ms)", "per input (ms)") if per_image else CATALOGUE[x].label + " per call"
    figure.update_layout(xaxis_title=x_title, yaxis_title=CATALOGUE[y].label, height=520,
                         legend_title_text=legend_title, margin=dict(t=30))
    if log_x:
        figure.update_xaxes(**views.log_axis(p.x for p in points))
    return figure


def hover_fields(point: views.PlotPoint, x: str, labels: dict[int, str]) -> list:
    """What a point's tooltip shows (see hover_template)."""
    run = point.run
    status = " · ".join(words for words in ("" if point.comparable else "not comparable (other environment)",
                                            "noisy: timed on a busy machine" if run.noisy else "") if words)
    return [run.id, run.model, f"{labels[run.id]} · {run.scenario}", run.runtime.get("batch"),
            run.runtime.get("threads") or "all", run.metrics.get("agreement"), run.metrics.get("size_mb"),
            " · ".join(w for w in (point.reason or ("on the front" if point.on_front else ""), status) if w), status,
            views.metric_text(run, x)]


def hover_template(x: str, y: str) -> str:
    return ("run %{customdata[0]} · %{customdata[1]}<br>%{customdata[2]}<br>batch %{customdata[3]}, threads "
            "%{customdata[4]}<br>" + CATALOGUE[x].label + " %{customdata[9]}<br>" + CATALOGUE[y].label
            + " %{y:.2f}<br>agreement %{customdata[5]:.2f}%<br>size %{customdata[6]:.3f} MB"
            "<br>%{customdata[7]}<extra></extra>")


def _derivation_arrows(figure: go.Figure, points: Sequence[views.PlotPoint], log_x: bool) -> None:
    """An arrow from each run to the runs derived from it (e.g. a diagnosis's "keep in float" run)."""
    by_id = {p.run.id: p for p in points}
    position = (lambda v: math.log10(v)) if log_x else (lambda v: v)  # annotations on a log axis take log10
    for child in points:
        parent = by_id.get(child.run.parent_run_id)
        if parent is not None:
            figure.add_annotation(x=position(child.x), y=child.y, ax=position(parent.x), ay=parent.y,
                                  xref="x", yref="y", axref="x", ayref="y", text="", showarrow=True,
                                  arrowhead=3, arrowsize=1.2, arrowwidth=1.5, arrowcolor="#6b7280",
                                  hovertext=f"run {child.run.id} derived from run {parent.run.id}")
