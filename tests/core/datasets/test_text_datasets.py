"""Texts from a folder of class folders, a CSV or a JSONL file, and BBC News from its installed package: read
whole, every bad file or row refused by name before anything is measured."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core.datasets import DATASETS, load_dataset
from core.datasets.bbc_news import TOPICS, data_folder, headline, read_articles
from core.datasets.text import read_text_folder, read_text_table, read_user_texts
from core.errors import DataError


def _folder(root, files):
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


def test_a_folder_of_class_folders_reads_each_text_with_its_class(tmp_path):
    data = read_text_folder(_folder(tmp_path, {"pos/1.txt": "good film", "pos/2.txt": "great", "neg/1.txt": "dull"}))
    assert data.class_names == ("neg", "pos")
    assert sorted(zip(data.texts, data.labels.tolist())) == [("dull", 0), ("good film", 1), ("great", 1)]


@pytest.mark.parametrize("files, words", [
    ({"pos/1.txt": "good", "neg/1.txt": "   \n"}, ["neg/1.txt", "hold no text"]),
    ({"pos/1.txt": "good", "neg/1.txt": b"caf\xe9 \xff"}, ["neg/1.txt", "not UTF-8", "0xe9 at offset 3"]),
    ({"pos/1.txt": "good", "pos/2.txt": "fine"}, ["only the class 'pos'", "at least two classes"]),
    ({"pos/notes.md": "good"}, ["no .txt files", "pos"]),
])
def test_a_bad_folder_is_refused_naming_the_file(tmp_path, files, words):
    with pytest.raises(DataError) as refused:
        read_text_folder(_folder(tmp_path, files))
    for word in words:
        assert word in str(refused.value)


def test_a_missing_folder_says_what_to_give(tmp_path):
    with pytest.raises(DataError, match="does not exist.*one folder of .txt files per class"):
        read_text_folder(tmp_path / "nowhere")


def test_a_csv_finds_its_text_and_label_columns_and_numbers_sort_numerically(tmp_path):
    path = tmp_path / "sst2.csv"
    path.write_text('idx,sentence,label\n0,"a gripping, moving film",1\n1,flat,0\n2,"dull, long",10\n')
    data = read_text_table(path)
    assert data.class_names == ("0", "1", "10")
    assert data.texts == ["a gripping, moving film", "flat", "dull, long"]
    assert data.labels.tolist() == [1, 0, 2]


def test_a_jsonl_file_reads_one_object_per_line(tmp_path):
    path = tmp_path / "news.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in [{"text": "stocks rise", "label": "business"},
                                                          {"text": "cup final", "label": "sport"}]) + "\n\n")
    data = read_user_texts(path)
    assert data.class_names == ("business", "sport") and data.labels.tolist() == [0, 1]


@pytest.mark.parametrize("name, content, words", [
    ("a.csv", "body,label\nhello,1\nbye,0\n", ["no text column", "'body'", "rename"]),
    ("a.csv", "text,label\nhello,1\n,0\nbye,0\n", ["line 3", "empty 'text'"]),
    ("a.csv", "text,label\nhello,1\nbye,\n", ["line 3", "no 'label'"]),
    ("a.csv", "text,label\nhello,1\n", ["only the class '1'"]),
    ("a.csv", "text,label\n", ["holds no rows"]),
    ("a.jsonl", '{"text": "hi", "label": 1}\n{"text": "bye", "label": 0\n', ["line 2 is not JSON"]),
    ("a.jsonl", '["hi", 1]\n', ["line 1 is a JSON list"]),
    ("a.tsv", "text\tlabel\n", ["neither CSV nor JSONL"]),
])
def test_a_bad_table_is_refused_naming_the_row(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataError) as refused:
        read_text_table(path)
    for word in words:
        assert word in str(refused.value)


def test_an_undecodable_table_names_the_byte(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"text,label\nna\xefve,1\n")
    with pytest.raises(DataError, match=r"a.csv is not UTF-8 text \(undecodable byte 0xef at offset 13\)"):
        read_text_table(path)


def test_bbc_news_is_read_from_the_installed_package_with_its_five_topics():
    texts, labels = read_articles(data_folder())
    assert len(texts) == 2225
    assert dict(zip(TOPICS, np.bincount(labels).tolist())) == {"business": 510, "entertainment": 386,
                                                                 "politics": 417, "sport": 511, "tech": 401}


def test_bbc_news_splits_are_disjoint_stratified_and_the_same_every_time(settings):
    first = load_dataset("bbc-news", settings, None)
    again = load_dataset("bbc-news", settings, None)
    sizes = {part: len(getattr(first, part)) for part in ("train", "calibration", "evaluation")}
    assert sizes == {"train": 1363, "calibration": 314, "evaluation": 419}
    assert first.notes == ["129 repeated articles left out (the same headline twice), 2,096 kept"]
    seen = [{headline(text) for text in getattr(first, part).items} for part in ("train", "calibration", "evaluation")]
    assert not (seen[0] & seen[2]) and not (seen[1] & seen[2]) and not (seen[0] & seen[1])  # no text in two splits
    assert first.evaluation.items == again.evaluation.items
    shares = np.bincount(first.evaluation.labels) / len(first.evaluation)
    assert np.allclose(shares, np.bincount(first.train.labels) / len(first.train), atol=0.01)


def test_bbc_headlines_are_the_first_line_of_each_article(settings):
    articles = load_dataset("bbc-news", settings, None).evaluation
    headlines = load_dataset("bbc-news-headlines", settings, None).evaluation
    assert headlines.labels.tolist() == articles.labels.tolist()
    assert headlines.items[0] == headline(articles.items[0]) and len(headlines.items[0]) < 120
    assert DATASETS.get("bbc-news-headlines").task == "text-classification"


def test_a_bbc_folder_without_its_topics_is_refused(tmp_path, settings):
    (tmp_path / "business").mkdir()
    with pytest.raises(DataError, match="lacks the topic folder.*entertainment"):
        load_dataset(f"bbc-news:{tmp_path}", settings, None)
