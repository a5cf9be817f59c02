"""Scenarios: how load is applied while timing (MLPerf Inference's vocabulary), each with a typed config."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.options import (
    format_spec,
    parse_key_values,
    parse_options,
    split_spec,
    to_dict,
)
from core.registry import Registry
from core.scenarios.configs import (
    ConcurrentConfig,
    OfflineConfig,
    ServerConfig,
    SingleStreamConfig,
)
from core.scenarios.load import QueryStream, arrival_times, request_pool
from core.scenarios.runners import (
    LoadContext,
    ScenarioResult,
    run_concurrent,
    run_offline,
    run_server,
    run_single_stream,
)

DEFAULT_SCENARIO = "single-stream"


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str            # what it measures
    use_when: str           # when a user should pick it
    config_cls: type
    run: Callable[[LoadContext, Any], ScenarioResult]
    queueing: bool = False  # requests wait for each other, so latency includes queueing (its options matter)
    merges_requests: Callable[[Any], bool] = lambda config: False  # dynamic batching: calls larger than the batch


SCENARIOS: Registry[Scenario] = Registry("scenario")
for _scenario in (
    Scenario("single-stream", "one request after another, back to back; latency per call",
             "one caller that waits for each answer: interactive apps, on-device inference",
             SingleStreamConfig, run_single_stream),
    Scenario("offline", "every request available at once, sent as fast as possible; throughput",
             "batch jobs that only care about images per second (raise the batch size)",
             OfflineConfig, run_offline),
    Scenario("server", "Poisson arrivals at a target rate, optional dynamic batching; latency includes queueing",
             "an online service with a latency budget: p99 at the traffic you expect",
             ServerConfig, run_server, queueing=True, merges_requests=lambda config: config.max_batch > 1),
    Scenario("concurrent", "N clients sending back to back to one shared session or K instances",
             "many callers at once: how throughput and latency scale with clients and instances",
             ConcurrentConfig, run_concurrent, queueing=True),
):
    SCENARIOS.register(_scenario.name, _scenario)


def parse_scenario(spec: str | None, options: dict[str, Any] | None = None) -> tuple[str, Any]:
    """"NAME[:key=value,...]" plus typed `options` -> (name, typed config); empty means single-stream."""
    name, rest = split_spec(spec or DEFAULT_SCENARIO)
    scenario = SCENARIOS.get(name)
    values = parse_key_values(rest, what=f"scenario {name}") if rest else {}
    return name, parse_options(scenario.config_cls, {**values, **(options or {})}, what=f"scenario {name}")


def scenario_config(name: str, values: dict[str, Any] | None) -> Any:
    """Rebuild a stored scenario config."""
    return parse_options(SCENARIOS.get(name).config_cls, values, what=f"scenario {name}")


def scenario_spec(name: str, config: Any) -> str:
    """The CLI spec of a scenario, with only the options that differ from the defaults."""
    defaults = to_dict(SCENARIOS.get(name).config_cls())
    return format_spec(name, {k: v for k, v in to_dict(config).items() if defaults.get(k) != v})


__all__ = ["SCENARIOS", "DEFAULT_SCENARIO", "Scenario", "LoadContext", "ScenarioResult", "QueryStream",
           "arrival_times", "request_pool", "parse_scenario", "scenario_config", "scenario_spec",
           "ServerConfig", "ConcurrentConfig", "OfflineConfig", "SingleStreamConfig"]
