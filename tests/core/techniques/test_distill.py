"""Distillation: the student learns from the teacher, is cached, and is usable as a model."""
import pytest

from core.models.local import LocalOptions, train_or_load
from core.progress import no_progress
from core.techniques import TECHNIQUES

TEACHER = "resnet8:epochs=2,train_limit=8192"


def test_distilled_student_beats_the_same_student_without_teacher(settings):
    # Small labelled data, long training: the regime where the teacher's soft targets regularize.
    plain = LocalOptions(epochs=60, train_limit=256, seed=0)
    _, without = train_or_load("lenet5", plain, settings, no_progress)
    taught = LocalOptions(epochs=60, train_limit=256, seed=0, teacher=TEACHER)
    _, with_teacher = train_or_load("lenet5", taught, settings, no_progress)
    assert with_teacher["teacher_weights"] and not without["teacher_weights"]
    assert with_teacher["test_top1"] > without["test_top1"], (with_teacher["test_top1"], without["test_top1"])


def test_distill_technique_caches_a_student_reused_as_a_model(api, run_request, settings, monkeypatch):
    from core.models import training

    teacher = "resnet8:epochs=1,train_limit=1024"
    run = api.execute(api.submit(run_request("distill:epochs=1,train_limit=512", model=teacher)))
    assert run.status == "done", run.error
    assert any(n.startswith("distill: lenet5 student") for n in run.notes)
    assert run.metrics["size_mb"] < 0.3  # the student runs, not the teacher

    calls = []
    original = training.train_classifier
    monkeypatch.setattr(training, "train_classifier", lambda *a, **k: calls.append(1) or original(*a, **k))
    student, record = train_or_load("lenet5", LocalOptions(epochs=1, train_limit=512, teacher=teacher), settings,
                                    no_progress)
    assert calls == [] and record["teacher"] == teacher  # the cached student, not a new one


def test_distill_needs_fashion_mnist_students(api, run_request):
    with pytest.raises(Exception, match="trains on a train split"):
        api.plan(run_request("distill", model="squeezenet1_1", dataset="synthetic", random_weights=True))
    assert TECHNIQUES.get("distill").needs_train_split(TECHNIQUES.get("distill").config_cls())
