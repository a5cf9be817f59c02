"""GLUE SST-2 and AG News through the Hugging Face hub, offline: the test places the Parquet file in a hub cache
exactly where huggingface_hub keeps a downloaded file, and the loader reads it from there."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.datasets import DATASETS, load_dataset
from core.datasets.hub_text import SETS
from core.errors import DataError
from core.settings import load_settings

COMMIT = "0123456789abcdef0123456789abcdef01234567"
SENTENCES = ["a gripping , funny film", "dull and far too long", "the best thing this year", "a waste of an evening",
             "warm , clever and moving", "nothing works here"] * 4


def place_in_hub_cache(cache: Path, repo: str, filename: str, table: pa.Table) -> Path:
    """Write `table` where huggingface_hub keeps `filename` of dataset `repo` downloaded at COMMIT."""
    folder = cache / f"datasets--{repo.replace('/', '--')}"
    path = folder / "snapshots" / COMMIT / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    (folder / "refs").mkdir(exist_ok=True)
    (folder / "refs" / "main").write_text(COMMIT)
    return path


def sst2_table(labels=None) -> pa.Table:
    labels = labels if labels is not None else [i % 2 == 0 for i in range(len(SENTENCES))]
    return pa.table({"sentence": SENTENCES, "label": [int(x) for x in labels], "idx": list(range(len(SENTENCES)))})


@pytest.fixture
def hub_cache(tmp_path, monkeypatch) -> Path:
    """An empty hub cache that huggingface_hub uses by default in this test and the processes it starts."""
    import huggingface_hub.constants

    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))  # read once at import: a run's own process sees it there
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    return cache


def test_sst2_is_read_from_the_hub_cache_with_its_two_classes(hub_cache):
    place_in_hub_cache(hub_cache, "nyu-mll/glue", "sst2/validation-00000-of-00001.parquet", sst2_table())
    data = load_dataset("sst2", load_settings(), None)
    assert data.class_names == ("negative", "positive")
    assert len(data.evaluation) == len(SENTENCES)
    assert data.evaluation.texts([0, 1]) == SENTENCES[:2]
    assert data.evaluation.labels[:2].tolist() == [1, 0]
    assert DATASETS.get("sst2").task == "text-classification"


def test_ag_news_reads_a_hub_cache_named_as_its_location(tmp_path):
    texts = [f"Story {i}: markets, matches, summits and chips" for i in range(8)]
    place_in_hub_cache(tmp_path / "elsewhere", "fancyzhx/ag_news", "data/test-00000-of-00001.parquet",
                       pa.table({"text": texts, "label": [i % 4 for i in range(8)]}))
    data = load_dataset(f"ag-news:{tmp_path / 'elsewhere'}", load_settings(), None)
    assert data.class_names == ("World", "Sports", "Business", "Sci/Tech")
    assert data.evaluation.labels.tolist() == [0, 1, 2, 3] * 2


@pytest.mark.parametrize("name", [hub.name for hub in SETS])
def test_a_dataset_not_in_the_cache_offline_says_what_to_do(hub_cache, name):
    with pytest.raises(DataError) as refused:
        load_dataset(name, load_settings(), None)
    message = str(refused.value)
    assert "not in the Hugging Face cache" in message and "internet" in message and f"--dataset {name}:" in message


@pytest.mark.parametrize("table, words", [
    (pa.table({"text": SENTENCES, "label": [0] * len(SENTENCES)}), ["no 'sentence' column", "not the sst2 split"]),
    (sst2_table([-1] * len(SENTENCES)), ["label outside 0–1", "unlabelled split cannot be scored"]),
    (pa.table({"sentence": [" "] + SENTENCES[1:], "label": [0, 1] * 12}), ["hold no text", "row 0"]),
])
def test_a_wrong_file_in_the_cache_is_refused_naming_it(hub_cache, table, words):
    path = place_in_hub_cache(hub_cache, "nyu-mll/glue", "sst2/validation-00000-of-00001.parquet", table)
    with pytest.raises(DataError) as refused:
        load_dataset("sst2", load_settings(), None)
    assert str(path) in str(refused.value)
    for word in words:
        assert word in str(refused.value)


def test_a_corrupt_file_in_the_cache_is_refused_naming_it(hub_cache):
    path = place_in_hub_cache(hub_cache, "nyu-mll/glue", "sst2/validation-00000-of-00001.parquet", sst2_table())
    path.write_bytes(b"PAR1 truncated")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        load_dataset("sst2", load_settings(), None)


def test_a_two_class_text_model_runs_on_sst2_and_a_five_class_one_is_refused(hub_cache, api, run_request, tmp_path,
                                                                            tiny_text_model):
    from tests.fakes.tiny_text import save_tiny_text_classifier

    place_in_hub_cache(hub_cache, "nyu-mll/glue", "sst2/validation-00000-of-00001.parquet", sst2_table())
    binary = save_tiny_text_classifier(tmp_path / "binary", SENTENCES, num_labels=2)
    run = api.execute(api.submit(run_request(model=f"huggingface:id={binary}", dataset="sst2", subset=12, batch=4)))
    assert run.status == "done", run.error
    assert run.metrics["top1"] is not None and run.dataset == "sst2" and run.environment["inputs"]["kind"] == "text"
    with pytest.raises(DataError, match="predicts 5 classes but dataset sst2 has 2 .negative, positive.; pick a "
                                        "dataset of 5 classes, or a model with 2 outputs"):
        api.plan(run_request(model=tiny_text_model, dataset="sst2", subset=12))
