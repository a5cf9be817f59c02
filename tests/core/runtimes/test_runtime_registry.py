"""A runtime is one module and one registration: everything else reads its `Runtime` entry."""
import numpy as np
import pytest

from core.artifacts import TorchArtifact
from core.bench import env
from core.errors import RecipeError
from core.recipe import Recipe, RuntimeSettings, parse_step, validate
from core.runtimes import RUNTIMES, Runtime, make_predictor


class EchoPredictor:
    """Returns its input's first ten values as logits: enough to prove the registry routes to it."""

    engine, provider, notes = "echo", "cpu", ()

    def __init__(self, artifact, runtime, threads):
        self.settings = {"threads": threads}

    def prepare(self, batch):
        return batch

    def run(self, native):
        return native.reshape(len(native), -1)[:, :10]

    def to_numpy(self, output):
        return np.asarray(output, dtype=np.float32)


def refuse_big_batches(runtime):
    if runtime.batch > 8:
        raise RecipeError("the echo runtime takes batches of 8 at most")


@pytest.fixture
def echo_runtime(monkeypatch):
    entries = dict(RUNTIMES._entries)
    entries["echo"] = Runtime("echo", "an echo", EchoPredictor, libraries=("pytest",),
                              fingerprint_libraries=("pytest",), check=refuse_big_batches)
    monkeypatch.setattr(RUNTIMES, "_entries", entries)
    return entries["echo"]


def test_a_registered_runtime_is_used_by_predictors_messages_checks_and_the_fingerprint(echo_runtime):
    from core.runtimes import check_runtime

    artifact = TorchArtifact(module=None, kind="echo")
    predictor = make_predictor(artifact, RuntimeSettings(threads=1))
    assert predictor.run(predictor.prepare(np.ones((2, 1, 4, 4)))).shape == (2, 10)
    with pytest.raises(RecipeError, match="needs a PyTorch model, but the model is an echo model"):
        validate(Recipe((parse_step("structured_prune"),)), "echo")
    with pytest.raises(RecipeError, match="batches of 8 at most"):
        check_runtime("echo", RuntimeSettings(batch=16))
    assert "pytest" in env.library_versions()
    environment = {"cpu": "x", "libraries": {"pytest": "1", "numpy": "2"}}
    assert env.fingerprint(environment) != env.fingerprint({**environment, "libraries": {"pytest": "2", "numpy": "2"}})
    assert env.fingerprint(environment) == env.fingerprint({**environment, "libraries": {"pytest": "1", "numpy": "3"}})
