"""The exploration loop: baselines first, then exhaustive or optuna-guided trials, within a budget.

Every trial is an ordinary run carrying the exploration's id. Nothing about the search lives
outside the store: on resume the sampler is rebuilt from the finished runs, so an interrupted
exploration continues where it stopped and never measures a finished configuration again.

Parallel explorations use the store's own queue, not optuna's RDB storage: the process that claimed
the exploration is the only one that proposes trials (so no configuration is ever proposed twice and
the budget is counted in one place); it queues up to `parallel()` trials at once, addressed to the
exploration's target, and every worker of that target — this one included — claims them as ordinary
runs. The sampler is told each result when it arrives, in the order trials finish.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from core.comparable import baselines, comparison_key
from core.engine import execute
from core.errors import InferScopeError, RunCancelled
from core.explore.analysis import Constraints, accuracy_metric, gain
from core.explore.budget import Budget
from core.explore.paired_check import paired_check
from core.explore.seeding import reusable_run, seed_configurations
from core.explore.settings import choose_strategy, settings_of
from core.explore.space import Configuration, SearchSpace, parse_space, runnable
from core.explore.strategies import STRATEGY_FUNCTIONS
from core.explore.trials import (
    Trial,
    config_key,
    configuration_of,
    current_fingerprint,
    run_key,
)
from core.lifecycle import run_job
from core.progress import Progress, no_progress
from core.settings import Settings
from core.store import (
    ACTIVE_STATUSES,
    Claimant,
    ExplorationRecord,
    RunRecord,
    RunSpec,
    RunStore,
)

WAIT_POLL_S = 1.0  # how often the proposing worker looks whether another worker finished a trial


class Exploration:
    """One session of work on a stored exploration (claimed by this process)."""

    def __init__(self, store: RunStore, record: ExplorationRecord, settings: Settings,
                 plan: Callable[[Configuration], RunSpec], progress: Progress = no_progress,
                 on_trial: Callable[[Trial], None] = lambda trial: None,
                 execute_run: Callable[[int], RunRecord] | None = None,
                 parallel: Callable[[], int] = lambda: 1, claimant: Claimant = Claimant()) -> None:
        self.store, self.record, self.settings = store, record, settings
        self.execute_run = execute_run or (lambda run_id: execute(store, run_id, settings))
        self.parallel, self.claimant = parallel, claimant
        self.pending: dict[int, tuple[int, Configuration]] = {}  # trial run id -> (its number, configuration)
        self.plan, self.progress, self.on_trial = plan, progress, on_trial
        self.options = settings_of(record)
        self.space: SearchSpace = parse_space(record.config["space"])
        self.validity = runnable(self.space, record.config.get("start", "torch"))
        self.keys = {config_key(c): c for c in self.validity.runnable}
        self.notes = list(record.notes)
        self.refused: set[str] = set()

    # -- what has been measured -------------------------------------------------------------------
    def runs(self) -> list[RunRecord]:
        return self.store.list_runs(exploration_id=self.record.id)

    def _key(self, run: RunRecord) -> str:
        """A stored run's configuration key in this space (its model axes included)."""
        return run_key(run, self.space.model_axes)

    def finished(self) -> dict[str, RunRecord]:
        """Configuration key -> its finished run (done, or failed: a failure is not retried)."""
        return {self._key(r): r for r in self.runs() if r.status in ("done", "failed")}

    def in_flight(self) -> dict[str, RunRecord]:
        """Configuration key -> this exploration's trial waiting in the queue or running (here or elsewhere)."""
        return {self._key(r): r for r in self.runs() if r.status in ACTIVE_STATUSES
                and r.exploration_id == self.record.id}

    def taken(self) -> set[str]:
        """Keys never to propose again: finished, or queued or running on some worker."""
        return set(self.finished()) | set(self.in_flight())

    def constraints(self) -> Constraints:
        return self.options.constraints(accuracy_metric(self.runs()))

    # -- the loop ----------------------------------------------------------------------------------
    def strategy(self) -> str:
        """The strategy to use: exhaustive when every runnable configuration fits the budget."""
        allowed = self.record.config.get("expected_runs") or self.options.budget_runs or 0
        return choose_strategy(self.options.strategy, len(self.validity.runnable), allowed)

    def run(self) -> str:
        """Work until the budget is spent, the space is exhausted or a cancel arrives; the end reason."""
        finished = self.finished()
        own = [r for r in finished.values() if r.exploration_id == self.record.id]  # reused baselines cost nothing
        left_in_queue = self.in_flight()  # queued or running when an earlier session ended: they count, and are awaited
        self.budget = Budget(self.options, self.record.spent_s, len(own) + len(left_in_queue))
        for number, run in enumerate(left_in_queue.values(), start=len(own) + 1):
            self.pending[run.id] = (number, self.keys.get(self._key(run)) or configuration_of(run))
        strategy = self.strategy()
        self._save(strategy=strategy)
        reason = None
        try:
            for config in self._candidates(strategy, finished):
                if not self.budget.left():
                    reason = "the budget is spent"
                    break
                if self._save():
                    raise RunCancelled("exploration cancelled")
                self._submit(config)
                while len(self.pending) >= max(1, self.parallel()):
                    self._work_or_wait()
            while self.pending:
                self._work_or_wait()
        except BaseException:
            self.store.cancel_queued_trials(self.record.id)  # nobody else measures for a stopped exploration
            raise
        finally:
            self._save()  # the time spent counts, however this session ends
        return self._end(reason or (f"the space is exhausted: all {len(self.keys)} runnable configurations are "
                                    "measured" if self.budget.left() else "the budget is spent"))

    def _candidates(self, strategy: str, finished: dict[str, RunRecord]) -> Iterator[Configuration]:
        """Baselines (reused from the store where it has them), then the seed configurations, then the rest:
        as the strategy proposes them (`core.explore.strategies`)."""
        taken = self.taken()
        yield from (c for c in self.validity.runnable if c.is_baseline and config_key(c) not in taken
                    and not self._reused(c))
        seeds = seed_configurations(self.validity.runnable, self.record.config.get("start", "torch"))
        yield from (c for c in seeds if config_key(c) not in self.taken())
        rest = [c for c in self.validity.runnable if not c.is_baseline and c not in seeds]
        yield from STRATEGY_FUNCTIONS[strategy](self, rest)

    def _reused(self, config: Configuration) -> bool:
        """Take a stored run of this baseline configuration, measured here on a quiet machine, instead of
        measuring it again (no budget spent); True when one was taken."""
        try:
            spec = self.plan(config)
        except InferScopeError:
            return False  # _measure refuses it with the reason
        run = reusable_run(spec, self.store.list_runs("done"), current_fingerprint(self.record.config))
        if run is None:
            return False
        self.store.reuse_run(self.record.id, run.id)
        self.on_trial(Trial(self.budget.total_trials, config, run, f"reused: run {run.id} measured this baseline "
                                                                    "before, on this machine", reused=True))
        return True

    def outcome(self, run: RunRecord | None) -> tuple[list[float] | None, Any, dict[str, float]]:
        """Objective values (latency to minimize, quality to maximize: `gain`), trial state and constraint values
        of a finished run, for the sampler."""
        from optuna.trial import TrialState

        c = self.constraints()
        if run is None or run.status != "done" or run.metrics.get(c.latency) is None \
                or run.metrics.get(c.accuracy) is None:
            return None, TrialState.FAIL, {}
        base = baselines(self.runs()).get(comparison_key(run))
        values = {k: min(v, 1e9) for k, v in c.values(run, base).items()}
        return [run.metrics[c.latency], gain(run, c)], TrialState.COMPLETE, values

    def expected(self) -> int:
        return int(self.record.config.get("expected_runs") or self.options.budget_runs or len(self.keys))

    def _submit(self, config: Configuration) -> None:
        """Plan one trial and queue it for the exploration's target (it counts against the budget at once)."""
        number = self.budget.total_trials + 1
        try:
            spec = self.plan(config)
        except InferScopeError as exc:
            self.refused.add(config_key(config))  # refused before running: it costs no budget
            self.on_trial(Trial(number, config, None, f"refused: {exc}"))
            return
        run_id = self.store.create_run(replace(spec, target=self.record.target), exploration_id=self.record.id)
        self.pending[run_id] = (number, config)
        self.budget.trials += 1
        self._save()

    def _work_or_wait(self) -> None:
        """Measure one of this exploration's queued trials here, or wait for another worker to finish one; then
        report every trial that ended."""
        claimed = self.store.claim("run", self.claimant, exploration_id=self.record.id)
        if claimed is not None:
            self.execute_run(claimed)
        for run_id, (number, config) in list(self.pending.items()):
            run = self.store.get(run_id)
            if run.status not in ACTIVE_STATUSES:
                del self.pending[run_id]
                self._save()
                self.on_trial(Trial(number, config, run))
        if claimed is None and self.pending:  # another worker measures them: look again in a while
            if self._save():
                raise RunCancelled("exploration cancelled")
            time.sleep(WAIT_POLL_S)

    def _save(self, **values: Any) -> bool:
        """Store progress; True when a cancel was requested."""
        self.progress("explore", self.budget.fraction())
        return self.store.update_exploration(self.record.id, progress=self.budget.fraction(),
                                             spent_s=self.budget.spent_s, trials=self.budget.total_trials,
                                             **values)

    def _end(self, reason: str) -> str:
        self.notes.append(reason)
        self.store.update_exploration(self.record.id, notes=self.notes, spent_s=self.budget.spent_s,
                                      trials=self.budget.total_trials)
        return reason


def execute_exploration(store: RunStore, exploration_id: int, settings: Settings,
                        plan: Callable[[Configuration], RunSpec], progress: Progress = no_progress,
                        on_trial: Callable[[Trial], None] = lambda trial: None, *,
                        parallel: Callable[[], int] = lambda: 1, claimant: Claimant = Claimant()) -> ExplorationRecord:
    """Run a claimed (running) exploration to its end state and return it.

    Ends as every job does (`core.lifecycle`): a cancel, Ctrl-C or SIGTERM stores `cancelled` and
    re-raises. It can be continued later (`python -m core explore --resume ID`); finished trials are kept.
    """
    record = store.exploration(exploration_id)

    def work(progress: Progress) -> str:
        reason = Exploration(store, record, settings, plan, progress, on_trial, parallel=parallel,
                             claimant=claimant).run()
        if settings_of(record).paired_check:
            paired_check(store, exploration_id, settings, progress)
        return reason

    # its progress is the budget spent, stored by the search itself (a trial's reports are the trial's own)
    return run_job(store, "exploration", exploration_id, work, lambda reason: store.end("exploration", exploration_id,
                                                                                      "done"), progress, stored=False,
                   interrupted=f"interrupted by the user; continue it with `python -m core explore --resume "
                               f"{exploration_id}`")
