"""Source `huggingface`: any `AutoModelForSequenceClassification`, by hub name (fetched into the Hugging Face
cache when online) or by a local folder saved with `save_pretrained` (`--model huggingface:id=PATH_OR_NAME`)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.artifacts import TorchArtifact
from core.downloads import hub_offline
from core.errors import ModelError
from core.models.base import LoadedModel, ModelEntry
from core.models.text import input_names_of, packed_classifier
from core.options import option, to_dict
from core.progress import Progress
from core.settings import Settings
from core.text.pretrained import load_quietly
from core.text.spec import TextInputSpec
from core.text.tokens import MAX_LENGTHS, PADDINGS, TextShape

GENERIC_LABEL = "LABEL_"  # what transformers names the classes of a config that did not name them


@dataclass(frozen=True)
class HuggingFaceOptions:
    id: str = option("", "hub name (e.g. textattack/bert-base-uncased-SST-2) or a folder saved with save_pretrained")
    max_length: int = option(128, "tokens read per text; longer texts are cut", choices=MAX_LENGTHS)
    padding: str = option("fixed", "pad every call to the max length (fixed), or to its longest text (dynamic)",
                          choices=PADDINGS)



def build(options: HuggingFaceOptions, settings: Settings, progress: Progress) -> LoadedModel:
    """Load the classifier and its tokenizer; refuse with what to do when neither a folder nor the cache has it."""
    from transformers import AutoModelForSequenceClassification

    if not options.id:
        raise ModelError("huggingface needs the model: --model huggingface:id=NAME_OR_FOLDER (e.g. "
                         "huggingface:id=textattack/bert-base-uncased-SST-2)")
    folder = Path(options.id).expanduser()
    source = str(folder) if folder.is_dir() else options.id
    if folder.is_dir() and not (folder / "config.json").is_file():
        raise ModelError(f"{folder} has no config.json; save the model with model.save_pretrained(folder) and its "
                         "tokenizer with tokenizer.save_pretrained(folder)")
    progress("build", 0.1)
    try:
        model = load_quietly(lambda: AutoModelForSequenceClassification.from_pretrained(
            source, local_files_only=hub_offline(settings)))
    except (OSError, ValueError) as exc:
        where = "offline and not in the Hugging Face cache" if hub_offline(settings) else "not found on the hub"
        raise ModelError(f"Hugging Face model {options.id!r} cannot be loaded: {where} "
                         f"({str(exc).splitlines()[0]}); give a folder saved with save_pretrained, or run once online "
                         "to fill the cache") from None
    names = input_names_of(model)
    spec = TextInputSpec(source, TextShape(options.max_length, options.padding), "token_type_ids" in names)
    from core.text.spec import encoder

    encoder(source)  # a missing or broken tokenizer is refused now, not in the middle of a run
    labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
    named = not all(str(label).startswith(GENERIC_LABEL) for label in labels)
    note = f"Hugging Face {model.config.model_type} classifier {options.id}: {model.config.num_labels} classes" + \
           (f" ({', '.join(map(str, labels[:5]))}{', ...' if len(labels) > 5 else ''})" if named else "")
    return LoadedModel(options.id, "huggingface", TorchArtifact(packed_classifier(model.eval(), names)), spec,
                       f"custom-{model.config.num_labels}", model.config.num_labels, options=to_dict(options),
                       notes=[note], class_names=tuple(map(str, labels)) if named else ())


def classes_in_folder(options: dict[str, Any]) -> int | None:
    """The class count a folder's config.json declares, read without loading the model (None: a hub name, or
    a config that does not say)."""
    config = Path(str(options.get("id") or "")).expanduser() / "config.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    labels = data.get("id2label") if isinstance(data, dict) else None
    count = len(labels) if isinstance(labels, dict) and labels else (data or {}).get("num_labels")
    return count if isinstance(count, int) and count > 0 else None


def describe(settings: Settings) -> dict[str, Any]:
    return {"params": None, "gflops": None, "input": "text: 64–512 tokens", "weights_offline": False,
            "weights": "from the Hugging Face hub or a local folder", "reference_top1": None}


ENTRIES = [ModelEntry(name="huggingface", source="huggingface", description="any Hugging Face sequence classifier: "
                      "huggingface:id=NAME_OR_FOLDER", label_space="custom", options_cls=HuggingFaceOptions,
                      build=build, describe=describe, task="text-classification", classes=classes_in_folder)]
