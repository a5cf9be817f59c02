"""A shareable report: one self-contained HTML file (plotly inline) about a few runs, readable offline.

The latency/accuracy chart, every metric side by side against a reference, the settings that differ,
the doctor's notes, each run's latest diagnoses (where the accuracy and the time went) and its
environment. Pure: it takes records and returns text.
"""
from __future__ import annotations

import html
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from core import comparable, metric_rows, views, wording
from core.metrics import CATALOGUE
from core.store import DiagnosisRecord, RunRecord

STYLE = """body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#111827}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;font-size:.85rem}
td,th{border:1px solid #e5e7eb;padding:.2rem .5rem;text-align:right}th{background:#f9fafb}td:first-child,th:first-child{text-align:left}h2{margin-top:2rem}
.note{color:#4b5563;font-size:.9rem}pre{background:#f9fafb;padding:.5rem;font-size:.75rem;overflow:auto}"""


def _table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    if not rows:
        return "<p class='note'>none</p>"
    columns = list(columns or rows[0])
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(r.get(c)))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _charts(runs: Sequence[RunRecord], labels: dict[int, str]) -> str:
    """One front per task, on the task's own axes (a language model has no top-1, a classifier no perplexity);
    runs without the task's quality figure (timed on made-up inputs) are drawn on their agreement with FP32."""
    import plotly.graph_objects as go

    charts = []
    for title, group in views.facets(runs, by_target=False):
        x, y = views.run_task(group[0]).front
        y = y if all(r.metrics.get(y) is not None for r in group) else "agreement"
        points = views.plot_points(group, x, y)
        figure = go.Figure(go.Scatter(
            x=[p.x for p in points], y=[p.y for p in points], mode="markers+text",
            text=[f"run {p.run.id}" for p in points], textposition="top center",
            hovertext=[labels[p.run.id] for p in points],
            marker=dict(size=11, color=["#111827" if p.on_front else "#9ca3af" for p in points])))
        figure.update_layout(xaxis_title=CATALOGUE[x].label, yaxis_title=CATALOGUE[y].label, height=420,
                             margin=dict(t=20))
        charts.append((f"<h3>{html.escape(title)}</h3>" if title else "")
                      + figure.to_html(include_plotlyjs=not charts, full_html=False))  # plotly.js inline: offline
    return "".join(charts)


def _summary(run: RunRecord) -> str:
    """"latency p50 (ms) 3.1 ms, top-1 91.20%": the run on its task's front."""
    x, _ = views.run_task(run).front
    return f"{CATALOGUE[x].label.split(' (')[0]} {views.metric_text(run, x)}, {views.quality_words(run)}"


def _diagnosis(record: DiagnosisRecord) -> str:
    s = record.summary
    if record.kind == "sensitivity":
        head = (f"<p>Where the accuracy went (diagnosis {record.id}): {s['metric']} {s['int8']:.2f}% in INT8 against "
                f"{s['float']:.2f}% in FP32, {s['quantized_nodes']} quantized nodes.</p>")
        return head + _table(record.nodes[:10], ["node", "op_type", "sqnr_db", "noise_added_pct", "recovered"])
    head = f"<p>Where the time went (profile {record.id}): {html.escape(wording.profile_words(s))}.</p>"
    return head + _table(s.get("op_types", [])[:12], ["op_type", "precision", "ms_per_call", "share_pct"])


def report_html(runs: Sequence[RunRecord], diagnoses: Sequence[DiagnosisRecord] = ()) -> str:
    """The report of `runs` (done ones; the reference is the FP32 baseline among them, else the first)."""
    runs = [r for r in runs if r.status == "done"]
    if not runs:
        raise ValueError("a report needs at least one done run")
    labels = views.run_labels(runs)
    reference = next((r for r in runs if comparable.is_baseline(r)), runs[0])
    parts = [f"<h1>InferScope report: runs {', '.join(str(r.id) for r in runs)}</h1>",
             f"<p class='note'>Made {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Reference: run {reference.id}.</p>",
             "<ul>" + "".join(f"<li><b>run {r.id}</b>: {html.escape(labels[r.id])} — "
                              f"{html.escape(_summary(r))}"
                              + (" <i>(timed on a busy machine)</i>" if r.noisy else "") + "</li>" for r in runs)
             + "</ul>",
             "<h2>Speed and quality</h2>", _charts(runs, labels),
             f"<h2>Metrics against run {reference.id}</h2>", _table(metric_rows.metric_deltas(runs, reference)),
             "<h2>Settings that differ</h2>",
             _table([{k: v for k, v in row.items() if k != "differs"} for row in views.settings_diff(runs)
                     if row["differs"]])]
    advice = [{"run": r.id, "figure": f["figure"], "advice": f["advice"]} for r in runs for f in r.advice]
    parts += ["<h2>The doctor's notes</h2>", _table(advice, ["run", "figure", "advice"])]
    latest: dict[tuple[int, str], DiagnosisRecord] = {}
    for record in diagnoses:
        if record.status == "done" and record.run_id in labels:
            latest[(record.run_id, record.kind)] = record
    if latest:
        parts.append("<h2>Diagnoses</h2>")
        parts += [f"<h3>Run {run_id}</h3>{_diagnosis(record)}" for (run_id, _), record in sorted(latest.items())]
    parts.append("<h2>Environments</h2>")
    parts += [f"<h3>Run {r.id}</h3><pre>{html.escape(json.dumps(r.environment or {}, indent=1))}</pre>" for r in runs]
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>InferScope report</title><style>{STYLE}"
            f"</style></head><body>{''.join(parts)}</body></html>")
