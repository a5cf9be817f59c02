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

import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from core.bench.paired import Paired
from core.engine import execute
from core.errors import InferScopeError, RunCancelled
from core.explore.analysis import Constraints, accuracy_metric, recommend
from core.explore.seeding import reusable_run, seed_configurations
from core.explore.space import Configuration, SearchSpace, parse_space, runnable
from core.lifecycle import run_to_end
from core.metrics import DEFAULT_ACCURACY, DEFAULT_LATENCY, LATENCY_METRICS
from core.options import option, parse_options
from core.progress import Progress, no_progress
from core.recipe import parse_step
from core.remeasure import execute_comparison
from core.settings import Settings
from core.store import ACTIVE_STATUSES, Claimant, ExplorationRecord, RunRecord, RunStore
from core.views import baselines, comparison_key

STRATEGIES = ("auto", "exhaustive", "nsga2", "tpe")
# After this many sampled configurations in a row that add nothing new (finished or not runnable),
# the sampler is taken to have converged and an untried configuration is drawn at random instead.
STALE_LIMIT = 25
WAIT_POLL_S = 1.0  # how often the proposing worker looks whether another worker finished a trial


@dataclass(frozen=True)
class ExploreSettings:
    """What an exploration searches and within which budget (stored as its config)."""

    budget_runs: int | None = option(None, "stop after this many trials (baselines included)", minimum=1,
                                     maximum=100_000, label="budget (runs)")
    budget_minutes: float | None = option(None, "stop starting trials after this many minutes", minimum=0.1,
                                          maximum=10_080.0, label="budget (minutes)")
    max_drop: float | None = option(1.0, "maximum accuracy drop vs the FP32 baseline, points", minimum=0.0,
                                    maximum=100.0, label="max drop vs FP32 (points)")
    max_latency_ms: float | None = option(None, "maximum latency per call, ms", minimum=0.0, label="max latency (ms)")
    max_size_mb: float | None = option(None, "maximum model size, MB", minimum=0.0, label="max size (MB)")
    strategy: str = option("auto", "auto = exhaustive when the runnable space fits the budget, else NSGA-II",
                           choices=STRATEGIES)
    sampler_seed: int = option(0, "seed of the sampler and of the exhaustive order", minimum=0, label="sampler seed")
    latency_metric: str = option(DEFAULT_LATENCY, "the latency objective", choices=LATENCY_METRICS,
                                 label="latency objective")
    paired_check: bool = option(True, "end with a paired re-measurement of the front against the FP32 baseline, so "
                                      "the recommendation's speed-up carries an interval",
                                label="paired check at the end")

    def constraints(self, accuracy: str = DEFAULT_ACCURACY) -> Constraints:
        return Constraints(self.max_drop, self.max_latency_ms, self.max_size_mb, self.latency_metric, accuracy)


def parse_settings(values: dict[str, Any]) -> ExploreSettings:
    settings = parse_options(ExploreSettings, values, what="explore")
    if (settings.budget_runs is None) == (settings.budget_minutes is None):
        raise InferScopeError("give exactly one budget: a number of runs or a number of minutes")
    return settings


def choose_strategy(requested: str, runnable: int, allowed_runs: int) -> str:
    """`auto` means exhaustive when every runnable configuration fits the budget, else NSGA-II."""
    if requested != "auto":
        return requested
    return "exhaustive" if runnable <= allowed_runs else "nsga2"


def settings_of(record: ExplorationRecord) -> ExploreSettings:
    """A stored exploration's budget, constraints and strategy."""
    return parse_settings({k: v for k, v in record.config.items() if k in ExploreSettings.__annotations__})


@dataclass(frozen=True)
class Trial:
    """What the loop reports after each trial (the CLI prints it, tests inspect it)."""

    number: int
    configuration: Configuration
    run: RunRecord | None       # None when it was refused before running
    note: str = ""
    reused: bool = False        # a stored baseline taken instead of a trial (no budget spent)


def current_fingerprint(config: dict[str, Any]) -> str:
    """This machine's environment fingerprint for an exploration's device (what stored runs must match)."""
    from core.bench.env import environment, fingerprint

    return fingerprint(environment(config.get("device", "cpu"), "", "", {}))


def _clock() -> float:
    return time.monotonic()


@dataclass
class _Budget:
    settings: ExploreSettings
    spent_before: float
    trials_before: int
    started: float = field(default_factory=lambda: _clock())
    trials: int = 0

    @property
    def spent_s(self) -> float:
        return self.spent_before + _clock() - self.started

    @property
    def total_trials(self) -> int:
        return self.trials_before + self.trials

    def fraction(self) -> float:
        if self.settings.budget_runs is not None:
            return min(1.0, self.total_trials / self.settings.budget_runs)
        return min(1.0, self.spent_s / (60.0 * self.settings.budget_minutes))

    def left(self) -> bool:
        return self.fraction() < 1.0


def configuration_key(recipe: list[dict[str, Any]], threads: int | None, batch: int) -> str:
    """Identifies a configuration across runs: its full recipe (options included) and runtime."""
    return json.dumps([recipe, threads, batch], sort_keys=True)


def _run_key(run: RunRecord) -> str:
    return configuration_key(run.recipe, run.runtime.get("threads"), run.runtime.get("batch") or 1)


def _configuration_of(run: RunRecord) -> Configuration:
    """A stand-in configuration for a trial whose configuration is no longer in the space (for its report)."""
    return Configuration((("recipe", run.recipe_summary),), run.runtime.get("threads"), run.runtime.get("batch") or 1)


def _config_key(config: Configuration) -> str:
    return configuration_key([parse_step(spec).to_dict() for spec in config.techniques], config.threads,
                             config.batch)


class Exploration:
    """One session of work on a stored exploration (claimed by this process)."""

    def __init__(self, store: RunStore, record: ExplorationRecord, settings: Settings,
                 plan: Callable[[Configuration], dict[str, Any]], progress: Progress = no_progress,
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
        self.keys = {_config_key(c): c for c in self.validity.runnable}
        self.notes = list(record.notes)
        self.refused: set[str] = set()

    # -- what has been measured -------------------------------------------------------------------
    def runs(self) -> list[RunRecord]:
        return self.store.list_runs(exploration_id=self.record.id)

    def finished(self) -> dict[str, RunRecord]:
        """Configuration key -> its finished run (done, or failed: a failure is not retried)."""
        return {_run_key(r): r for r in self.runs() if r.status in ("done", "failed")}

    def in_flight(self) -> dict[str, RunRecord]:
        """Configuration key -> this exploration's trial waiting in the queue or running (here or elsewhere)."""
        return {_run_key(r): r for r in self.runs() if r.status in ACTIVE_STATUSES
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
        self.budget = _Budget(self.options, self.record.spent_s, len(own) + len(left_in_queue))
        for number, run in enumerate(left_in_queue.values(), start=len(own) + 1):
            self.pending[run.id] = (number, self.keys.get(_run_key(run)) or _configuration_of(run))
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
        shuffled for exhaustive, else proposed by the sampler."""
        taken = self.taken()
        yield from (c for c in self.validity.runnable if c.is_baseline and _config_key(c) not in taken
                    and not self._reused(c))
        seeds = seed_configurations(self.validity.runnable, self.record.config.get("start", "torch"))
        yield from (c for c in seeds if _config_key(c) not in self.taken())
        rest = [c for c in self.validity.runnable if not c.is_baseline and c not in seeds]
        if strategy == "exhaustive":
            random.Random(self.options.sampler_seed).shuffle(rest)  # a fair sample if the time budget runs out
            yield from (c for c in rest if _config_key(c) not in self.taken())
        else:
            yield from self._sampled(strategy)

    def _reused(self, config: Configuration) -> bool:
        """Take a stored run of this baseline configuration, measured here on a quiet machine, instead of
        measuring it again (no budget spent); True when one was taken."""
        try:
            fields = self.plan(config)
        except InferScopeError:
            return False  # _measure refuses it with the reason
        run = reusable_run(fields, self.store.list_runs("done"), current_fingerprint(self.record.config))
        if run is None:
            return False
        self.store.reuse_run(self.record.id, run.id)
        self.on_trial(Trial(self.budget.total_trials, config, run, f"reused: run {run.id} measured this baseline "
                                                                    "before, on this machine", reused=True))
        return True

    def _sampled(self, strategy: str) -> Iterator[Configuration]:
        """Configurations proposed by optuna's multi-objective sampler, learning from every finished run."""
        import optuna
        from optuna.distributions import CategoricalDistribution
        from optuna.trial import TrialState, create_trial

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        distributions = {name: CategoricalDistribution(list(choices))
                         for name, choices in self.space.distributions().items()}
        seed = self.options.sampler_seed
        if strategy == "tpe":
            sampler = optuna.samplers.TPESampler(seed=seed, multivariate=True,
                                                 n_startup_trials=min(10, max(2, self._expected() // 4)))
        else:
            sampler = optuna.samplers.NSGAIISampler(seed=seed, population_size=max(4, min(20, self._expected() // 4)))
        study = optuna.create_study(directions=["minimize", "maximize"], sampler=sampler)

        def tell(trial: Any, key: str) -> None:
            values, state, constraints = self._outcome(self.finished().get(key))
            for name, value in constraints.items():
                trial.set_constraint(name, value)
            study.tell(trial, values, state=state)

        def remember(key: str) -> None:
            values, state, constraints = self._outcome(self.finished().get(key))
            study.add_trial(create_trial(state=state, values=values, params=self.keys[key].params(),
                                         distributions=distributions, constraints=constraints))

        told = {key for key in self.finished() if key in self.keys}
        for key in told:
            remember(key)
        told |= set(self.in_flight())  # queued by an earlier session: never proposed again
        waiting: list[tuple[Any, str]] = []  # asked and queued, not finished yet: told when they finish

        def tell_finished() -> None:
            finished = self.finished()
            for trial, key in [w for w in waiting if w[1] in finished or w[1] in self.refused]:
                waiting.remove((trial, key))
                tell(trial, key)

        rng, stale = random.Random(seed), 0
        while len(told | self.refused) < len(self.keys):
            tell_finished()
            trial = study.ask(distributions)
            config = self.space.configuration(trial.params)
            key = _config_key(config)
            if key in self.keys and key not in told and key not in self.refused:
                stale = 0
                yield config
                told.add(key)
                waiting.append((trial, key))
                continue
            if key in told:
                tell(trial, key)  # measured before: the sampler hears the same result again
            else:
                study.tell(trial, state=TrialState.FAIL)  # not runnable
            stale += 1
            if stale >= STALE_LIMIT:
                stale = 0
                key = rng.choice(sorted(set(self.keys) - told - self.refused))
                yield self.keys[key]
                told.add(key)
                remember(key)

    def _outcome(self, run: RunRecord | None) -> tuple[list[float] | None, Any, dict[str, float]]:
        """Objective values, trial state and constraint values of a finished run, for the sampler."""
        from optuna.trial import TrialState

        c = self.constraints()
        if run is None or run.status != "done" or run.metrics.get(c.latency) is None \
                or run.metrics.get(c.accuracy) is None:
            return None, TrialState.FAIL, {}
        base = baselines(self.runs()).get(comparison_key(run))
        values = {k: min(v, 1e9) for k, v in c.values(run, base).items()}
        return [run.metrics[c.latency], run.metrics[c.accuracy]], TrialState.COMPLETE, values

    def _expected(self) -> int:
        return int(self.record.config.get("expected_runs") or self.options.budget_runs or len(self.keys))

    def _submit(self, config: Configuration) -> None:
        """Plan one trial and queue it for the exploration's target (it counts against the budget at once)."""
        number = self.budget.total_trials + 1
        try:
            fields = self.plan(config)
        except InferScopeError as exc:
            self.refused.add(_config_key(config))  # refused before running: it costs no budget
            self.on_trial(Trial(number, config, None, f"refused: {exc}"))
            return
        run_id = self.store.create_run(exploration_id=self.record.id, **{**fields, "target": self.record.target})
        self.pending[run_id] = (number, config)
        self.budget.trials += 1
        self._save()

    def _work_or_wait(self) -> None:
        """Measure one of this exploration's queued trials here, or wait for another worker to finish one; then
        report every trial that ended."""
        claimed = self.store.claim_next_queued(self.claimant, exploration_id=self.record.id)
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
                        plan: Callable[[Configuration], dict[str, Any]], progress: Progress = no_progress,
                        on_trial: Callable[[Trial], None] = lambda trial: None, *,
                        parallel: Callable[[], int] = lambda: 1, claimant: Claimant = Claimant()) -> ExplorationRecord:
    """Run a claimed (running) exploration to its end state and return it.

    Ends as every job does (`core.lifecycle`): a cancel, Ctrl-C or SIGTERM stores `cancelled` and
    re-raises. It can be continued later (`python -m core explore --resume ID`); finished trials are kept.
    """
    record = store.exploration(exploration_id)

    def work() -> str:
        reason = Exploration(store, record, settings, plan, progress, on_trial, parallel=parallel,
                             claimant=claimant).run()
        if settings_of(record).paired_check:
            paired_check(store, exploration_id, settings, progress)
        return reason

    run_to_end(work,
               lambda reason: store.end_exploration(exploration_id, "done"),
               lambda status, error: store.end_exploration(exploration_id, status, error),
               interrupted="interrupted by the user; continue it with "
                           f"`python -m core explore --resume {exploration_id}`")
    return store.exploration(exploration_id)



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
    store.start_comparison(comparison_id)
    comparison = execute_comparison(store, comparison_id, settings, progress)
    note = (f"paired check (comparison {comparison_id}): " + "; ".join(
        Paired(**r).words(baseline.id, comparison.config.get("noise_pct", 2.0))
        for r in comparison.results if r["verdict"] != "reference")
        if comparison.status == "done" else f"paired check (comparison {comparison_id}) {comparison.status}: "
                                             f"{comparison.error}")
    store.update_exploration(exploration_id, notes=[*store.exploration(exploration_id).notes, note])
