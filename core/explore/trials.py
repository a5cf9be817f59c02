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


def configuration_key(recipe: list[dict[str, Any]], threads: int | None, batch: int) -> str:
    """Identifies a configuration across runs: its full recipe (options included) and runtime."""
    return json.dumps([recipe, threads, batch], sort_keys=True)


def run_key(run: RunRecord) -> str:
    return configuration_key(run.recipe, run.runtime.get("threads"), run.runtime.get("batch") or 1)


def configuration_of(run: RunRecord) -> Configuration:
    """A stand-in configuration for a trial whose configuration is no longer in the space (for its report)."""
    return Configuration((("recipe", run.recipe_summary),), run.runtime.get("threads"), run.runtime.get("batch") or 1)


def config_key(config: Configuration) -> str:
    return configuration_key([parse_step(spec).to_dict() for spec in config.techniques], config.threads,
                             config.batch)
