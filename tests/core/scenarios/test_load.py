import numpy as np
import pytest

from core.errors import InferScopeError
from core.scenarios import (
    QueryStream,
    arrival_times,
    parse_scenario,
    request_pool,
    scenario_spec,
)


def test_seeded_arrivals_are_reproducible_and_poisson():
    first, again = arrival_times(200.0, 5000, seed=3), arrival_times(200.0, 5000, seed=3)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, arrival_times(200.0, 5000, seed=4))
    gaps = np.diff(np.concatenate([[0.0], first]))
    assert (gaps > 0).all()
    assert abs(gaps.mean() - 1 / 200) < 0.1 / 200            # mean gap 1/rate
    assert abs(gaps.std() / gaps.mean() - 1.0) < 0.1         # exponential: coefficient of variation 1


def test_query_stream_is_seeded_and_repeats_as_configured():
    stream = QueryStream(1000, repeat_ratio=0.4, zipf_exponent=1.2, seed=7)
    queries = stream.take(1000)
    assert queries == QueryStream(1000, repeat_ratio=0.4, zipf_exponent=1.2, seed=7).take(1000)
    repeats = sum(1 for i, q in enumerate(queries) if q in set(queries[:i]))
    assert 0.33 < repeats / len(queries) < 0.47
    counts = np.bincount(queries, minlength=1000)
    assert counts.max() > 20, "Zipf: the most popular input repeats far more than the others"


def test_without_repeats_the_stream_cycles_the_whole_pool():
    queries = QueryStream(50, repeat_ratio=0.0, seed=1).take(100)
    assert sorted(queries[:50]) == list(range(50)) and queries[50:] == queries[:50]


def test_request_pool_fills_the_last_batch_from_the_start():
    images = np.arange(5 * 2, dtype=np.float32).reshape(5, 2, 1, 1)
    pool = request_pool(images, 2)
    assert len(pool) == 3 and all(r.shape == (2, 2, 1, 1) for r in pool)
    assert np.array_equal(pool[2][0], images[4]) and np.array_equal(pool[2][1], images[0])


def test_scenario_specs_parse_and_round_trip():
    name, config = parse_scenario("server:rate=200,max_batch=4")
    assert name == "server" and config.rate == 200.0 and config.max_batch == 4
    assert scenario_spec(name, config) == "server:rate=200.0,max_batch=4"
    assert parse_scenario(None)[0] == "single-stream"
    with pytest.raises(InferScopeError, match="valid scenarios: concurrent, offline, server, single-stream"):
        parse_scenario("burst")
    with pytest.raises(InferScopeError, match="at least 0.01"):
        parse_scenario("server:rate=0")
    with pytest.raises(InferScopeError, match="has no option 'clients'"):
        parse_scenario("server:clients=3")
