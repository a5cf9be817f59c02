"""`distill_layers`: a student of the first N encoder layers of a Hugging Face transformer, trained on the train split
to match the full model — shallower, smaller, faster, cached by teacher — and text models retrained by pruning's
recovery with a transformer's learning rate."""
from __future__ import annotations

import pytest

from core.errors import InferScopeError, RecipeError
from core.techniques.distill_layers import layer_stack, truncated
from tests.conftest import FAST_TIMING


@pytest.fixture
def text_request(tiny_text_model):
    from core.api import RunRequest

    def make(*techniques: str, **overrides):
        fields = {"model": tiny_text_model, "dataset": "bbc-news-headlines", "subset": 48, "techniques": techniques,
                  "timing": dict(FAST_TIMING), "batch": 4}
        fields.update(overrides)
        return RunRequest(**fields)
    return make


def _tiny_bert(layers: int):
    from transformers import BertConfig, BertForSequenceClassification

    return BertForSequenceClassification(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=layers,
                                                    num_attention_heads=2, intermediate_size=32, num_labels=3)).eval()


def test_the_student_keeps_the_first_layers_with_the_teachers_weights():
    import torch

    teacher = _tiny_bert(4)
    student = truncated(teacher, 2)
    name, stack = layer_stack(student)
    assert name == "bert.encoder.layer" and len(stack) == 2 and student.config.num_hidden_layers == 2
    assert len(layer_stack(teacher)[1]) == 4, "the teacher is left whole"
    for kept, original in zip(stack, layer_stack(teacher)[1][:2]):
        for a, b in zip(kept.parameters(), original.parameters()):
            assert torch.equal(a, b)
    ids = torch.randint(0, 50, (2, 7))
    assert student(input_ids=ids).logits.shape == (2, 3)


def test_a_student_as_deep_as_its_teacher_is_refused():
    with pytest.raises(InferScopeError, match="has 4 encoder layers, so a student of 4 is not smaller"):
        truncated(_tiny_bert(4), 4)


def test_the_distilled_student_is_shallower_and_cached_for_the_next_run(private_cache, api, text_request):
    first = api.execute(api.submit(text_request("distill_layers:layers=1,epochs=1,train_limit=64")))
    assert first.status == "done", first.error
    assert any("first 1 of 2 encoder layers" in note and "trained on 64 train texts" in note for note in first.notes)
    fp32 = api.execute(api.submit(text_request()))
    assert first.metrics["size_mb"] < fp32.metrics["size_mb"]
    again = api.execute(api.submit(text_request("distill_layers:layers=1,epochs=1,train_limit=64", "onnx_export")))
    assert again.status == "done", again.error
    assert any("cached 1-layer student" in note for note in again.notes)


def test_text_models_recover_from_pruning_and_image_models_refuse_the_text_student(api, text_request, run_request):
    pruned = api.execute(api.submit(text_request("unstructured_prune:ratio=0.5,recovery=finetune,recovery_epochs=1,"
                                                 "recovery_limit=64")))
    assert pruned.status == "done", pruned.error
    assert any("recovered with finetune for 1 epoch(s) on 64 train texts" in note for note in pruned.notes)
    with pytest.raises(RecipeError, match="distill_layers does not apply to image classification models"):
        api.plan(run_request("distill_layers"))
    with pytest.raises(RecipeError, match="distill does not apply to text classification models: .*distill_layers"):
        api.plan(text_request("distill"))
    with pytest.raises(RecipeError, match="has none; use bbc-news"):
        api.plan(text_request("distill_layers", dataset="texts:" + str(_texts_folder(api)), subset=4))


def _texts_folder(api):
    folder = api.settings.home / "my-texts"
    for label in ("business", "entertainment", "politics", "sport", "tech"):
        texts = [f"{label} story one", f"{label} story two"]
        (folder / label).mkdir(parents=True, exist_ok=True)
        for i, text in enumerate(texts):
            (folder / label / f"{i}.txt").write_text(text)
    return folder
