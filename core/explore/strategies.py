"""How an exploration proposes configurations once its baselines and seeds are queued — one function per
strategy (`STRATEGY_FUNCTIONS`): every runnable configuration in a seeded random order (exhaustive), or optuna's
multi-objective samplers learning from every finished run (NSGA-II, TPE).

A strategy reads the search it serves (`core.explore.search.Exploration`): its space, options, configuration keys,
finished and in-flight trials, refused keys, and the objective values of a finished run (`outcome`).
"""
from __future__ import annotations

import functools
import random
from collections.abc import Callable, Iterator
from typing import Any

from core.explore.space import Configuration
from core.explore.trials import config_key

# After this many sampled configurations in a row that add nothing new (finished or not runnable),
# the sampler is taken to have converged and an untried configuration is drawn at random instead.
STALE_LIMIT = 25


def exhaustive(search: Any, rest: list[Configuration]) -> Iterator[Configuration]:
    """Every remaining runnable configuration, in a seeded random order: a fair sample if the time budget runs
    out."""
    random.Random(search.options.sampler_seed).shuffle(rest)
    yield from (c for c in rest if config_key(c) not in search.taken())


def nsga2(seed: int, expected: int) -> Any:
    import optuna

    return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(4, min(20, expected // 4)))


def tpe(seed: int, expected: int) -> Any:
    import optuna

    return optuna.samplers.TPESampler(seed=seed, multivariate=True, n_startup_trials=min(10, max(2, expected // 4)))


def sampled(search: Any, rest: list[Configuration], *, make_sampler: Callable[[int, int], Any]) -> \
        Iterator[Configuration]:
    """Configurations proposed by an optuna multi-objective sampler (latency down, accuracy up, the constraints as
    optuna constraints), learning from every finished run; `make_sampler(seed, expected runs)` builds it."""
    import optuna
    from optuna.distributions import CategoricalDistribution
    from optuna.trial import TrialState, create_trial

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    distributions = {name: CategoricalDistribution(list(choices))
                     for name, choices in search.space.distributions().items()}
    seed = search.options.sampler_seed
    study = optuna.create_study(directions=["minimize", "maximize"], sampler=make_sampler(seed, search.expected()))

    def tell(trial: Any, key: str) -> None:
        values, state, constraints = search.outcome(search.finished().get(key))
        for name, value in constraints.items():
            trial.set_constraint(name, value)
        study.tell(trial, values, state=state)

    def remember(key: str) -> None:
        values, state, constraints = search.outcome(search.finished().get(key))
        study.add_trial(create_trial(state=state, values=values, params=search.keys[key].params(),
                                     distributions=distributions, constraints=constraints))

    told = {key for key in search.finished() if key in search.keys}
    for key in told:
        remember(key)
    told |= set(search.in_flight())  # queued by an earlier session: never proposed again
    waiting: list[tuple[Any, str]] = []  # asked and queued, not finished yet: told when they finish

    def tell_finished() -> None:
        finished = search.finished()
        for trial, key in [w for w in waiting if w[1] in finished or w[1] in search.refused]:
            waiting.remove((trial, key))
            tell(trial, key)

    rng, stale = random.Random(seed), 0
    while len(told | search.refused) < len(search.keys):
        tell_finished()
        trial = study.ask(distributions)
        config = search.space.configuration(trial.params)
        key = config_key(config)
        if key in search.keys and key not in told and key not in search.refused:
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
            key = rng.choice(sorted(set(search.keys) - told - search.refused))
            yield search.keys[key]
            told.add(key)
            remember(key)


STRATEGY_FUNCTIONS: dict[str, Callable[[Any, list[Configuration]], Iterator[Configuration]]] = {
    "exhaustive": exhaustive,
    "nsga2": functools.partial(sampled, make_sampler=nsga2),
    "tpe": functools.partial(sampled, make_sampler=tpe),
}
