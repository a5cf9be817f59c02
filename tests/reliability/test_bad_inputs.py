"""Bad inputs through the public api: each is refused with what to do, and nothing is stored half-way.

Every case runs against a store seeded with one done and one failed run, and the test checks afterwards
that the runs, explorations, uploads and exports are exactly as before, and that a fresh app opens the
store. Inputs that can only be found while running end as one whole `failed` run naming the cause.
"""
from __future__ import annotations

import os
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from core.api import ExploreRequest, InferScope, RunRequest
from core.errors import InferScopeError
from tests.conftest import FAST_TIMING, TINY_MODEL
from tests.helpers import TinyClassifier, export_onnx, write_image_folder

PAYLOAD_MARKER = "inferscope-pickle-was-executed"


class Flat(nn.Module):
    def forward(self, x):
        return x[:, :4] * 2


class Payload:
    """A pickle that would create a file if anything ever unpickled it."""

    def __init__(self, target: Path):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"touch {self.target}",))


def onnx_file(folder: Path, name: str, module: nn.Module, shape, dynamic_axes=None) -> Path:
    return export_onnx(folder / name, module, shape, dynamic_axes)


def nan_model() -> nn.Module:
    module = TinyClassifier()
    with torch.no_grad():
        module.fc.bias.fill_(float("nan"))
    return module


def request(**fields: Any) -> RunRequest:
    return RunRequest(**{"model": TINY_MODEL, "subset": 100, "timing": dict(FAST_TIMING), **fields})


@dataclass(frozen=True)
class Bad:
    name: str
    act: Callable[[InferScope, Path], Any]
    message: str                 # a regex the error must match: what is wrong and what to do


CASES = [
    # uploads
    Bad("truncated ONNX upload", lambda api, tmp: api.save_upload(
        "cut.onnx", onnx_file(tmp, "ok.onnx", TinyClassifier(), (1, 3, 16, 16)).read_bytes()[:200]), "cut.onnx"),
    Bad("non-ONNX upload", lambda api, tmp: api.save_upload("notes.onnx", b"just some text\n" * 20),
        "notes.onnx is not an ONNX model: its bytes do not read as one"),
    Bad("pickle uploaded as weights", lambda api, tmp: api.save_upload(
        "weights.pt", pickle.dumps(Payload(tmp / PAYLOAD_MARKER))), "never unpickled.*export the model to ONNX"),
    Bad("torch.save checkpoint uploaded", lambda api, tmp: api.save_upload(
        "model.pth", (torch.save(TinyClassifier().state_dict(), tmp / "m.pth"), (tmp / "m.pth").read_bytes())[1]),
        "model.pth looks like a PyTorch checkpoint"),
    Bad("upload over the size limit", lambda api, tmp: api.save_upload("big.onnx", b"\x08" * (201 * 1024 ** 2)),
        "upload limit is 200 MB"),
    Bad("path traversal in an upload name", lambda api, tmp: api.save_upload("../../../etc/evil.onnx", b"junk" * 9),
        r"^evil\.onnx is not an ONNX model: its bytes do not read as one"),
    # models
    Bad("ONNX model with a rank-2 input", lambda api, tmp: api.submit(request(
        model=str(onnx_file(tmp, "flat.onnx", Flat(), (1, 10))))), "rank 4"),
    Bad("ONNX model with a dynamic channel count", lambda api, tmp: api.submit(request(
        model=str(onnx_file(tmp, "dyn.onnx", TinyClassifier(), (1, 3, 16, 16), {"x": {0: "n", 1: "c"}})))),
        "dynamic channel"),
    Bad("ONNX model whose outputs are NaN", lambda api, tmp: api.save_upload(
        "nan.onnx", onnx_file(tmp, "nan.onnx", nan_model(), (1, 3, 16, 16)).read_bytes()), "nan.onnx.*NaN"),
    Bad("missing ONNX file", lambda api, tmp: api.submit(request(model=str(tmp / "gone.onnx"))), "does not exist"),
    Bad("unknown model", lambda api, tmp: api.submit(request(model="resnet9000")), "unknown model 'resnet9000'"),
    Bad("unknown model option", lambda api, tmp: api.submit(request(model="lenet5:epoch=3")), "has no option 'epoch'"),
    # data
    Bad("empty dataset folder", lambda api, tmp: (tmp / "empty").mkdir() or api.submit(request(
        model="efficientnet_lite0", dataset=f"imagenet-folder:{tmp / 'empty'}")), "holds no class folders"),
    Bad("folder of non-image files", lambda api, tmp: (write_image_folder(tmp / "txt", {"n01440764": 0}),
        (tmp / "txt" / "n01440764" / "readme.txt").write_text("hi"), api.submit(request(
            model="efficientnet_lite0", dataset=f"imagenet-folder:{tmp / 'txt'}"))), "no images found"),
    Bad("class folders that match no ImageNet id", lambda api, tmp: (write_image_folder(tmp / "pets", {"cats": 2}),
        api.submit(request(model="efficientnet_lite0", dataset=f"imagenet-folder:{tmp / 'pets'}"))),
        "match no ImageNet-1k WordNet id: cats"),
    Bad("dataset folder that does not exist", lambda api, tmp: api.submit(request(
        model="efficientnet_lite0", dataset=f"imagenet-folder:{tmp / 'nowhere'}")), "does not exist"),
    Bad("path traversal in a dataset path", lambda api, tmp: api.submit(request(
        model="efficientnet_lite0", dataset=f"imagenet-folder:{tmp}/../../etc")), "climbs out of a folder"),
    Bad("unknown dataset", lambda api, tmp: api.submit(request(dataset="mnist-ish")), "unknown dataset 'mnist-ish'"),
    Bad("subset size 0", lambda api, tmp: api.submit(request(subset=0)), "Subset size must be at least 1"),
    Bad("negative subset size", lambda api, tmp: api.submit(request(subset=-5)), "Subset size must be at least 1"),
    Bad("subset larger than the data", lambda api, tmp: api.submit(request(subset=10_001)),
        "larger than the 10000 images available"),
    Bad("calibration larger than its split", lambda api, tmp: api.submit(request(
        techniques=("onnx_export", "ort_static_int8:calibration_size=100000"))), "calibration size 100000"),
    # recipes and settings
    Bad("impossible recipe order", lambda api, tmp: api.submit(request(techniques=("ort_static_int8",))),
        "add onnx_export before ort_static_int8"),
    Bad("a step after the runtime settings", lambda api, tmp: api.submit(request(
        techniques=("onnx_export", "ort", "ort_dynamic_int8"))), "must come after"),
    Bad("unknown technique", lambda api, tmp: api.submit(request(techniques=("quantum_int3",))),
        "unknown technique 'quantum_int3'"),
    Bad("unknown technique option", lambda api, tmp: api.submit(request(techniques=("onnx_export",
                                                                                    "ort_static_int8:bits=4"))),
        "has no option 'bits'; valid options"),
    Bad("out-of-range technique option", lambda api, tmp: api.submit(request(
        techniques=("structured_prune:ratio=1.5",))), "must be at most"),
    Bad("option of the wrong type", lambda api, tmp: api.submit(request(
        techniques=("onnx_export", "ort_static_int8:per_channel=maybe"))), "takes true or false"),
    Bad("zero threads", lambda api, tmp: api.submit(request(threads=0)), "Threads must be at least 1; got 0"),
    Bad("zero batch", lambda api, tmp: api.submit(request(batch=0)), "Batch must be at least 1; got 0"),
    Bad("CUDA where there is none", lambda api, tmp: api.submit(request(device="cuda")),
        "cuda is not available here") if not torch.cuda.is_available() else None,
    Bad("unknown scenario", lambda api, tmp: api.submit(request(scenario="burst")), "unknown scenario 'burst'"),
    Bad("out-of-range scenario option", lambda api, tmp: api.submit(request(scenario="server:rate=-3")),
        "at least"),
    # NaN and infinity: they pass every bound check, so every number is checked for them first
    Bad("NaN server rate", lambda api, tmp: api.submit(request(scenario="server:rate=nan")),
        "server rate takes a finite number, not 'nan'"),
    Bad("infinite server rate", lambda api, tmp: api.submit(request(scenario="server:rate=inf")),
        "server rate takes a finite number, not 'inf'"),
    Bad("NaN pruning ratio", lambda api, tmp: api.submit(request(techniques=("structured_prune:ratio=nan",))),
        "structured_prune ratio takes a finite number"),
    Bad("NaN cache repeat ratio", lambda api, tmp: api.submit(request(techniques=("onnx_export",
                                                                                "cache:repeat_ratio=nan"))),
        "cache repeat ratio takes a finite number"),
    Bad("NaN min seconds", lambda api, tmp: api.submit(request(timing={"min_seconds": float("nan")})),
        "Timed seconds at least takes a finite number"),
    Bad("infinite max seconds", lambda api, tmp: api.submit(request(timing={"max_seconds": float("inf")})),
        "Timed seconds at most takes a finite number"),
    Bad("infinite threads", lambda api, tmp: api.submit(request(threads=float("inf"))),
        "Threads takes a whole number"),
    Bad("NaN model option", lambda api, tmp: api.submit(request(model=TINY_MODEL + ",temperature=nan")),
        "lenet5 temperature takes a finite number"),
    Bad("NaN exploration constraint", lambda api, tmp: api.submit_exploration(ExploreRequest(
        model=TINY_MODEL, options={"budget_runs": 2, "max_drop": float("nan")})), r"Max drop vs FP32 \(points, or % perplexity\) takes a finite"),
    Bad("NaN curve growth", lambda api, tmp: api.request_curve(api.runs("done")[0].id, {"growth": "nan"}),
        "Rate growth per step takes a finite number"),
    # paths that mislead
    Bad("a folder given as the model", lambda api, tmp: (tmp / "x.onnx").mkdir() or api.submit(request(
        model=str(tmp / "x.onnx"))), "x.onnx is a folder; give the path of an ONNX file"),
    Bad("export into an existing folder", lambda api, tmp: api.export(api.runs("done")[0].id, tmp),
        "is a folder; give a file name, e.g. .*inferscope-run-1.onnx"),
    Bad("unknown database URL", lambda api, tmp: InferScope(replace(api.settings, db_url="bogus://nowhere")),
        "names a database kind SQLAlchemy does not know.*sqlite:///.*postgresql\\+psycopg://"),
    Bad("database URL that is not a URL", lambda api, tmp: InferScope(replace(api.settings, db_url="nonsense")),
        "is not a database URL; use sqlite:///"),
    # explorations, runs and the store
    Bad("exploration without a budget", lambda api, tmp: api.submit_exploration(ExploreRequest(model=TINY_MODEL)),
        "exactly one budget"),
    Bad("export of an unknown run", lambda api, tmp: api.export(999, tmp / "x.onnx"), "no run with id 999"),
    Bad("export of a failed run", lambda api, tmp: api.export(api.runs("failed")[0].id, tmp / "x.onnx"),
        "only finished \\(done\\) runs can be exported"),
    Bad("corrupt database file", lambda api, tmp: (tmp / "junk.db").write_bytes(b"not sqlite " * 100) and
        InferScope(replace(api.settings, db_url=f"sqlite:///{tmp / 'junk.db'}")),
        "is not a readable SQLite database"),
]
CASES = [case for case in CASES if case is not None]


def _snapshot(api: InferScope) -> tuple:
    home = api.settings.home
    files = lambda folder: sorted(p.name for p in (home / folder).glob("*")) if (home / folder).exists() else []
    return ([(r.id, r.status) for r in api.runs()], [e.id for e in api.explorations()], files("uploads"),
            files("exports"))




@pytest.fixture
def store_with_runs(api, monkeypatch):
    """The store holds one done run and one failed run before each bad input."""
    monkeypatch.setenv("INFERSCOPE_AUTOSTART_WORKER", "0")
    from tests.seed import seed_runs

    seed_runs(api.store, 1, models=("lenet5",))
    failed = api.store.create_run(api.plan(request()).spec)
    api.store.start("run", failed)
    api.store.end("run", failed, "failed", "seeded failure")
    return api


def test_there_are_at_least_25_bad_inputs():
    assert len(CASES) >= 25 and len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_bad_input_is_refused_with_what_to_do_and_nothing_is_stored(case, store_with_runs, tmp_path):
    api = store_with_runs
    before = _snapshot(api)
    with pytest.raises(InferScopeError, match=case.message) as raised:
        case.act(api, tmp_path)
    assert len(str(raised.value)) > 20  # a sentence, not a code
    assert _snapshot(api) == before
    assert not (tmp_path / PAYLOAD_MARKER).exists()  # nothing was unpickled
    assert [r.status for r in InferScope().runs()] == ["done", "failed"]  # the app still opens the store


def test_paths_with_spaces_and_non_ascii_characters_work(api, tmp_path):
    folder = write_image_folder(tmp_path / "my data" / "vålidation ünïcode", {"n01440764": 2, "n15075141": 2})
    model = onnx_file(tmp_path / "my models é", "tiny classifier.onnx", TinyClassifier(classes=1000), (1, 3, 32, 32),
                      {"x": {0: "n"}})
    run = api.execute(api.submit(request(model=str(model), dataset=f"imagenet-folder:{folder}", subset=4)))
    assert run.status == "done", run.error
    assert run.dataset_location == str(folder) and run.model == str(model)


FOUND_WHILE_RUNNING = [
    Bad("corrupt image in the dataset", lambda api, tmp: (
        write_image_folder(tmp / "val", {"n01440764": 2, "n15075141": 2}),
        (tmp / "val" / "n01440764" / "broken.JPEG").write_bytes(b"\xff\xd8 not really a jpeg"),
        api.execute(api.submit(request(model="efficientnet_lite0", dataset=f"imagenet-folder:{tmp / 'val'}",
                                       subset=5))))[-1], "broken.JPEG"),
    Bad("ONNX model given by path whose outputs are NaN", lambda api, tmp: api.execute(api.submit(request(
        model=str(onnx_file(tmp, "nan.onnx", nan_model(), (1, 3, 16, 16))), dataset="synthetic", subset=8))),
        "NaN"),
    Bad("several undecodable images in the dataset", lambda api, tmp: (
        write_image_folder(tmp / "val", {"n01440764": 2, "n15075141": 2}),
        [(tmp / "val" / wnid / f"broken{i}.JPEG").write_bytes(b"not an image")
         for i, wnid in enumerate(("n01440764", "n01440764", "n15075141"))],
        api.execute(api.submit(request(model="efficientnet_lite0", dataset=f"imagenet-folder:{tmp / 'val'}",
                                       subset=7))))[-1],
        r"^3 image\(s\) cannot be decoded (?=.*broken0\.JPEG)(?=.*broken1\.JPEG)(?=.*broken2\.JPEG)"
        r".*remove or replace"),
]


@pytest.mark.parametrize("case", FOUND_WHILE_RUNNING, ids=[c.name for c in FOUND_WHILE_RUNNING])
def test_a_bad_input_found_while_running_fails_the_run_with_the_reason(case, store_with_runs, tmp_path):
    api = store_with_runs
    before = {r.id for r in api.runs()}
    run = case.act(api, tmp_path)
    assert run.status == "failed" and run.id not in before
    assert re.search(case.message, run.error), run.error
    assert run.metrics["latency_p50_ms"] is None and api.samples(run.id) == []  # a whole record, no half metrics
    assert InferScope().run(run.id).status == "failed"
