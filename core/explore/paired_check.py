"""The paired check that ends an exploration: its front's fastest points re-measured side by side with the FP32
baseline, so the recommendation's speed-up carries an interval."""
from __future__ import annotations

from core.bench.paired import Paired
from core.comparable import baselines, comparison_key
from core.explore.analysis import accuracy_metric, recommend
from core.explore.settings import settings_of
from core.progress import Progress, no_progress
from core.quoting import speed_per
from core.remeasure import execute_comparison
from core.settings import Settings
from core.store import RunStore

# The paired check re-measures the front's fastest points at most (each is rebuilt in one process), in
# fewer rounds than a re-measurement asked for by hand: it runs after every exploration.
PAIRED_CHECK_RUNS, PAIRED_CHECK_ROUNDS = 5, 100


def paired_check(store: RunStore, exploration_id: int, settings: Settings, progress: Progress = no_progress) -> None:
    """Re-measure the feasible front (its fastest PAIRED_CHECK_RUNS) against the FP32 baseline side by side;
    the outcome is a comparison record and a note on the exploration."""
    record = store.exploration(exploration_id)
    runs = store.list_runs(exploration_id=exploration_id)
    picks = recommend(runs, settings_of(record).constraints(accuracy_metric(runs)))
    base = baselines(runs)
    if not picks.front or comparison_key(picks.front[0]) not in base:
        return
    baseline = base[comparison_key(picks.front[0])]
    ids = list(dict.fromkeys([baseline.id, *[r.id for r in picks.front[:PAIRED_CHECK_RUNS]]]))
    if len(ids) < 2:
        return
    comparison_id = store.create_comparison(ids, baseline.id, {"rounds": PAIRED_CHECK_ROUNDS})
    store.start("comparison", comparison_id)
    comparison = execute_comparison(store, comparison_id, settings, progress)
    note = (f"paired check (comparison {comparison_id}): " + "; ".join(
        Paired(**r).words(baseline.id, comparison.config.get("noise_pct", 2.0), speed_per(baseline))
        for r in comparison.results if r["verdict"] != "reference")
        if comparison.status == "done" else f"paired check (comparison {comparison_id}) {comparison.status}: "
                                             f"{comparison.error}")
    store.update_exploration(exploration_id, notes=[*store.exploration(exploration_id).notes, note])
