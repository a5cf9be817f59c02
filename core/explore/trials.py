"""A trial and how trials are told apart: the key of a configuration (its full recipe, threads and batch), of a
stored run, and the fingerprint stored runs must match to count as measured here."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from core.explore.space import Configuration
from core.recipe import parse_step
from core.store import RunRecord


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


def configuration_key(recipe: list[dict[str, Any]], threads: int | None, batch: int,
                      model_options: dict[str, Any] | None = None) -> str:
    """Identifies a configuration across runs: its full recipe (options included), runtime and the model options
    the space varies (none: the key of a space without model axes)."""
    return json.dumps([recipe, threads, batch, *([model_options] if model_options else [])], sort_keys=True)


def run_key(run: RunRecord, model_axes: tuple[str, ...] = ()) -> str:
    """A stored run's key in a space whose model axes are `model_axes`."""
    options = {name: (run.model_options or {}).get(name) for name in model_axes}
    return configuration_key(run.recipe, run.runtime.get("threads"), run.runtime.get("batch") or 1, options)


def configuration_of(run: RunRecord) -> Configuration:
    """A stand-in configuration for a trial whose configuration is no longer in the space (for its report)."""
    return Configuration((("recipe", run.recipe_summary),), run.runtime.get("threads"), run.runtime.get("batch") or 1,
                         tuple((run.model_options or {}).items()))


def config_key(config: Configuration) -> str:
    return configuration_key([parse_step(spec).to_dict() for spec in config.techniques], config.threads,
                             config.batch, dict(config.model_options))
