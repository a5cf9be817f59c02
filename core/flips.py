"""Where two runs of the same model on the same inputs disagree: the inputs whose top-1 flipped, the change of the
confusion matrix (`core.views.flips`) and thumbnails (or the start of the texts) of the first flipped ones."""
from __future__ import annotations

from typing import Any

from core import comparable, views
from core.datasets import parse_dataset
from core.errors import InferScopeError
from core.settings import Settings
from core.store import RunStore


def run_flips(store: RunStore, settings: Settings, run_id: int, reference_id: int,
              thumbnails: int = 24) -> dict[str, Any]:
    """Where `run_id`'s top-1 differs from `reference_id`'s on their common subset: the flips, the change
    of the confusion matrix, class names and the first `thumbnails` flipped images (uint8)."""
    import numpy as np

    from core.datasets.subset import evaluation_subset
    from core.planning import SIZE_PROBE_SPEC

    run, reference = store.get(run_id), store.get(reference_id)
    if comparable.images_key(run) != comparable.images_key(reference):
        raise InferScopeError(f"runs {run_id} and {reference_id} were scored on different images; flips compare "
                              "runs of the same model on the same subset")
    ours, theirs = store.predictions(run_id), store.predictions(reference_id)
    if ours is None or theirs is None:
        missing = run_id if ours is None else reference_id
        raise InferScopeError(f"run {missing} has no stored predictions (it ran before InferScope kept them); "
                              "run it again to see its flips")
    entry, location = parse_dataset(run.dataset_spec)
    dataset = entry.load(location, settings, SIZE_PROBE_SPEC)
    subset = evaluation_subset(dataset, run.subset_size, run.subset_seed)
    found = views.flips(theirs, ours, subset.labels, len(dataset.class_names))
    picked = np.asarray(subset.indices)[found.indices[:thumbnails]]
    split = subset.split  # an image split shows thumbnails, a text split the start of each text
    return {"flips": found, "classes": list(dataset.class_names),
            "images": split.images(picked) if len(picked) and hasattr(split, "images") else [],
            "texts": [snippet(text) for text in split.texts(picked)] if len(picked) and hasattr(split, "texts")
            else []}


SNIPPET_CHARS = 160


def snippet(text: str) -> str:
    """The start of a text on one line, cut at a word with an ellipsis when longer than SNIPPET_CHARS."""
    line = " ".join(text.split())
    return line if len(line) <= SNIPPET_CHARS else line[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
