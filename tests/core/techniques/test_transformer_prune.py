"""`transformer_prune`: whole attention heads and FFN neurons removed from a BERT-family encoder by magnitude — a
smaller dense model that still runs, exports, fuses attention with its new head count and recovers by fine-tuning;
refused for image models and for transformers of another layout."""
from __future__ import annotations

import pytest

from core.errors import InferScopeError, RecipeError
from core.techniques.transformer_prune import prune
from tests.conftest import FAST_TIMING


@pytest.fixture
def text_request(tiny_text_model):
    from core.api import RunRequest

    def make(*techniques: str):
        return RunRequest(model=tiny_text_model, dataset="bbc-news-headlines", subset=48, techniques=techniques,
                          timing=dict(FAST_TIMING), batch=4)
    return make


def _tiny_bert():
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    return BertForSequenceClassification(BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=2,
                                                    num_attention_heads=4, intermediate_size=32, num_labels=3)).eval()


def test_the_weakest_heads_and_neurons_go_and_the_model_still_runs():
    import torch

    model = _tiny_bert()
    attention = model.bert.encoder.layer[0].attention
    with torch.no_grad():  # head 1 of layer 0 and FFN neuron 5 carry nothing, so they must be the ones removed
        for linear in (attention.self.query, attention.self.key, attention.self.value):
            linear.weight[4:8] = 0
        attention.output.dense.weight[:, 4:8] = 0
        model.bert.encoder.layer[0].intermediate.dense.weight[5] = 0
        model.bert.encoder.layer[0].output.dense.weight[:, 5] = 0
        kept_rows = attention.self.query.weight[8:12].clone()
    shape = prune(model.bert, heads=0.25, ffn=0.5)
    assert (shape.heads_before, shape.heads, shape.ffn_before, shape.ffn) == (4, 3, 32, 16)
    assert shape.params_after < shape.params_before
    layer = model.bert.encoder.layer[0]
    assert layer.attention.self.query.out_features == 12 and layer.attention.output.dense.in_features == 12
    assert torch.equal(layer.attention.self.query.weight[4:8], kept_rows), "head 2 moved into head 1's place"
    assert layer.intermediate.dense.out_features == 16 and layer.output.dense.in_features == 16
    assert layer.attention.self.num_attention_heads == 3 and model.config.intermediate_size == 16
    assert model(input_ids=torch.randint(0, 50, (2, 7))).logits.shape == (2, 3)


def test_one_head_and_one_neuron_always_stay():
    shape = prune(_tiny_bert().bert, heads=0.9, ffn=0.9)
    assert (shape.heads, shape.ffn) == (1, 4)


def test_a_transformer_of_another_layout_is_refused_with_the_layout_it_needs():
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    model = DistilBertForSequenceClassification(DistilBertConfig(vocab_size=50, dim=16, n_layers=2, n_heads=2,
                                                                 hidden_dim=32, num_labels=3))
    with pytest.raises(InferScopeError, match="knows BERT-family layers .* this model's layers are TransformerBlock"):
        prune(model.distilbert, heads=0.5, ffn=0.5)


def test_the_pruned_model_exports_and_fuses_attention_with_its_remaining_heads(api, text_request):
    fp32 = api.execute(api.submit(text_request("onnx_export:exporter=torchscript")))
    run = api.execute(api.submit(text_request("transformer_prune:heads=0.5,ffn=0.5,recovery=none",
                                              "onnx_export:exporter=torchscript", "transformer_optimize")))
    assert run.status == "done", run.error
    assert any("heads 2 -> 1 and FFN neurons 64 -> 32 per layer" in note for note in run.notes), run.notes
    fusion = run.environment["steps"]["transformer_optimize"]
    assert fusion["fused"].get("Attention") == 2, fusion  # and its output matched the unfused graph (the step checks)
    assert run.metrics["size_mb"] < fp32.metrics["size_mb"]


def test_recovery_fine_tunes_the_pruned_model_on_the_train_split(api, text_request):
    run = api.execute(api.submit(text_request("transformer_prune:heads=0.5,ffn=0.5,recovery_limit=64")))
    assert run.status == "done", run.error
    assert any("transformer_prune: recovered with finetune for 1 epoch(s) on 64 train texts" in note
               for note in run.notes), run.notes


def test_each_task_refuses_the_other_tasks_structured_pruning(api, text_request, run_request):
    with pytest.raises(RecipeError, match="transformer_prune does not apply to image classification models"):
        api.submit(run_request("transformer_prune"))
    with pytest.raises(RecipeError, match="transformer_prune removes whole heads and FFN neurons instead"):
        api.submit(text_request("structured_prune"))


def test_nothing_to_remove_is_refused(api, text_request):
    with pytest.raises(RecipeError, match="heads and ffn are both 0, so nothing would be removed"):
        api.submit(text_request("transformer_prune:heads=0,ffn=0"))
