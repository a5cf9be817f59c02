import numpy as np

from core.runtimes import CachedPredictor, ResponseCache
from core.runtimes.cache import input_key


class CountingPredictor:
    engine, provider, settings, notes = "counting", "cpu", {"threads": 1}, ()

    def __init__(self):
        self.calls = 0
        self.buffer = np.zeros((1, 3), dtype=np.float32)

    def prepare(self, batch):
        return batch

    def run(self, batch):
        self.calls += 1
        self.buffer = batch.reshape(len(batch), -1)[:, :3] + self.calls * 0  # a fresh array per call
        return self.buffer

    def to_numpy(self, output):
        return output


def test_hits_return_identical_outputs_without_running_the_model():
    inner = CountingPredictor()
    predictor = CachedPredictor(inner, ResponseCache(8))
    x = np.random.default_rng(0).random((2, 1, 4, 4), dtype=np.float32)
    miss = predictor.run(predictor.prepare(x))
    hit = predictor.run(predictor.prepare(x.copy()))
    assert not miss.cache_hit and hit.cache_hit and inner.calls == 1
    assert np.array_equal(predictor.to_numpy(hit), predictor.to_numpy(miss))
    other = predictor.run(predictor.prepare(x + 1))
    assert not other.cache_hit and inner.calls == 2


def test_least_recently_used_entries_are_evicted():
    predictor = CachedPredictor(CountingPredictor(), ResponseCache(2))
    a, b, c = (np.full((1, 1, 2, 2), v, dtype=np.float32) for v in (1, 2, 3))
    for x in (a, b, a, c):  # a was used after b, so b goes
        predictor.run(predictor.prepare(x))
    assert predictor.run(predictor.prepare(a)).cache_hit
    assert not predictor.run(predictor.prepare(b)).cache_hit


def test_keys_tell_shapes_and_dtypes_apart():
    x = np.zeros((1, 4), dtype=np.float32)
    assert input_key(x) == input_key(x.copy())
    assert input_key(x) != input_key(x.reshape(2, 2)) and input_key(x) != input_key(x.astype(np.float64))


def test_a_dynamic_batch_runs_only_its_misses_in_one_call():
    inner = CountingPredictor()
    predictor = CachedPredictor(inner, ResponseCache(8))
    requests = [np.full((1, 1, 2, 2), v, dtype=np.float32) for v in (1, 2, 3)]
    predictor.run(predictor.prepare(requests[1]))
    assert predictor.run_many(requests) == [False, True, False] and inner.calls == 2
    assert predictor.run_many(requests) == [True, True, True] and inner.calls == 2
