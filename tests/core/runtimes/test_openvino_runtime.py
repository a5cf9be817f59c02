"""OpenVINO Runtime: a real compiled model, its settings read back, refusals, and calls from many threads."""
import os
import threading

import numpy as np
import onnxruntime as ort
import pytest

from core.artifacts import OnnxArtifact
from core.errors import RecipeError
from core.recipe import RuntimeSettings
from core.runtimes import RUNTIMES, check_runtime, make_predictor
from core.runtimes.openvino_runtime import (
    OpenVinoArtifact,
    compile_properties,
    not_honoured,
)
from core.techniques import TECHNIQUES
from core.techniques.openvino import OpenVinoConfig
from tests.core.techniques.test_onnx_techniques import context, tiny_cnn


def onnx_model() -> OnnxArtifact:
    from core.artifacts import TorchArtifact
    from core.techniques.onnx_export import OnnxExportConfig

    return TECHNIQUES.get("onnx_export").apply(TorchArtifact(tiny_cnn()), OnnxExportConfig(), context())


def in_openvino(source: OnnxArtifact, **options) -> OpenVinoArtifact:
    return TECHNIQUES.get("openvino").apply(source, OpenVinoConfig(**options), context())


def ort_logits(source: OnnxArtifact, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(source.model_bytes, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def test_the_predictor_gives_onnxruntimes_logits_in_float32_and_records_what_the_device_used():
    source = onnx_model()
    predictor = make_predictor(in_openvino(source), RuntimeSettings(threads=1))
    x = np.random.default_rng(3).standard_normal((5, 1, 12, 12)).astype(np.float32)
    np.testing.assert_allclose(predictor.to_numpy(predictor.run(predictor.prepare(x))), ort_logits(source, x),
                               atol=1e-4)
    assert predictor.engine == "openvino" and predictor.provider == "CPU"
    assert predictor.settings["threads"] == 1 and predictor.settings["precision"] == "f32"
    assert predictor.settings["performance_hint"] == "latency" and predictor.settings["streams"] >= 1
    assert predictor.notes == ()


def test_settings_become_properties_and_a_setting_not_read_back_becomes_a_note():
    asked = compile_properties({"performance_hint": "throughput", "streams": 2, "precision": "bf16",
                                "cpu_pinning": False}, threads=2)
    assert asked == {"INFERENCE_NUM_THREADS": 2, "PERFORMANCE_HINT": "THROUGHPUT", "INFERENCE_PRECISION_HINT": "bf16",
                     "NUM_STREAMS": 2, "ENABLE_CPU_PINNING": False}
    got = {"threads": 2, "performance_hint": "throughput", "streams": 2, "precision": "f32", "cpu_pinning": False}
    assert not_honoured(asked, got) == ["openvino: asked for INFERENCE_PRECISION_HINT=bf16 but the device used f32; "
                                        "the run was measured with f32"]
    assert not_honoured(asked, {**got, "precision": "bf16"}) == []


def test_a_throughput_predictor_answers_many_threads_at_once_correctly():
    source = onnx_model()
    predictor = make_predictor(in_openvino(source, performance_hint="throughput", streams=2),
                               RuntimeSettings(threads=2))
    assert predictor.settings["streams"] == 2 and predictor.settings["infer_requests"] >= 2
    inputs = [np.full((1, 1, 12, 12), i / 10, dtype=np.float32) for i in range(8)]
    expected = [ort_logits(source, x) for x in inputs]
    errors = []

    def client(i):
        for _ in range(20):
            got = predictor.to_numpy(predictor.run(predictor.prepare(inputs[i])))
            if not np.allclose(got, expected[i], atol=1e-4):
                errors.append(i)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_cuda_and_onnxruntime_providers_are_refused_before_any_work():
    with pytest.raises(RecipeError, match="OpenVINO does not run on device cuda .*choose device cpu"):
        check_runtime("openvino", RuntimeSettings(device="cuda"))
    with pytest.raises(RecipeError, match="CUDAExecutionProvider is an onnxruntime setting"):
        check_runtime("openvino", RuntimeSettings(provider="CUDAExecutionProvider"))


def test_the_openvino_version_is_recorded_and_counts_in_the_fingerprint():
    from core.bench import env

    assert "openvino" in env.library_versions() and "openvino" in RUNTIMES.get("openvino").fingerprint_libraries
    environment = {"cpu": "x", "libraries": {"openvino": "2026.4.1"}}
    assert env.fingerprint(environment) != env.fingerprint({**environment, "libraries": {"openvino": "2026.5.0"}})


def test_an_export_writes_the_onnx_source_and_reopens_it_in_openvino_with_the_runs_settings():
    source = onnx_model()
    artifact = in_openvino(source, precision="f32", streams=1)
    runtime = RUNTIMES.get("openvino")
    assert runtime.exported(artifact).model_bytes == source.model_bytes
    reopened = runtime.reopen(source.model_bytes, artifact)
    assert reopened.kind == "openvino" and reopened.config == artifact.config
    assert make_predictor(reopened, RuntimeSettings(threads=1)).settings["streams"] == 1


@pytest.mark.skipif((os.cpu_count() or 1) >= 64, reason="the device may honour 64 streams on 64 cores")
def test_a_setting_the_device_does_not_honour_is_a_note_on_the_predictor_and_the_run_records_what_it_used():
    predictor = make_predictor(in_openvino(onnx_model(), streams=64), RuntimeSettings(threads=1))
    used = predictor.settings["streams"]
    assert used < 64
    assert predictor.notes == (f"openvino: asked for NUM_STREAMS=64 but the device used {used}; the run was measured "
                               f"with {used}",)
