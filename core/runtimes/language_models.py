"""A causal language model's artifacts and how each runs: eager PyTorch (with or without its KV cache), compiled
over a static cache, one ONNX graph with the cache as inputs and outputs in ONNX Runtime, or that graph as a stateful
OpenVINO request. A language model is measured by generating (`core.generation`), never by classifying, so each
kind's runtime gives a decoder (`Runtime.decoder`) and refuses a classifier's predictor in words."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.artifacts import ArtifactKind, state_dict_bytes
from core.errors import MeasurementError, RecipeError
from core.runtimes.base import Runtime
from core.runtimes.settings import RuntimeSettings

FAMILY = "language model"


class _LanguageArtifact:
    """What every language model's artifact has alike: no response cache (the `cache` step is a classifier's: each
    prompt of a generation is new), and its size from its torch weights unless it says otherwise."""

    response_cache = None
    model: Any

    def size_bytes(self) -> int:
        return state_dict_bytes(self.model)


@dataclass
class LanguageModel(_LanguageArtifact):
    """A Hugging Face causal LM in eager PyTorch; `kv_cache` False re-reads the whole sequence at every step."""

    model: Any
    kv_cache: bool = True
    kind: ArtifactKind = "lm"


@dataclass
class CompiledLanguageModel(_LanguageArtifact):
    """A causal LM whose forward `torch.compile` runs over a static KV cache."""

    model: Any
    kind: ArtifactKind = "lm-compiled"


@dataclass
class LanguageGraph(_LanguageArtifact):
    """One ONNX graph of a causal LM with its KV cache as inputs and outputs (`core.generation.graphs`)."""

    model_bytes: bytes
    config: Any             # the model's transformers config: the cache's shape
    kind: ArtifactKind = "lm-onnx"

    def size_bytes(self) -> int:
        return len(self.model_bytes)


@dataclass
class OpenVINOLanguageModel(_LanguageArtifact):
    """The graph read by OpenVINO (made stateful when it is compiled); `size` is its weights' bytes."""

    model: Any
    config: Any
    size: int
    kind: ArtifactKind = "lm-openvino"

    def size_bytes(self) -> int:
        return self.size


def _no_predictor(artifact: Any, runtime: RuntimeSettings, threads: int) -> Any:
    raise MeasurementError("a language model is measured by generating tokens (core.generation), not by classifying "
                           "inputs; this analysis applies to image and text classification runs")


def _cpu_only(words: str):
    def check(runtime: RuntimeSettings) -> None:
        if runtime.device != "cpu":
            raise RecipeError(f"{words} runs on the CPU here; use --device cpu, or measure the eager language model "
                              "(no lm_onnx_export) on cuda")
        if runtime.provider not in (None, "CPUExecutionProvider"):
            raise RecipeError(f"{words} runs with onnxruntime's CPU provider here; leave the provider empty")
    return check


def _eager_check(runtime: RuntimeSettings) -> None:
    if runtime.provider is not None:
        raise RecipeError("an execution provider is onnxruntime's; an eager language model runs in torch: leave the "
                          "provider empty")


def _torch_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def eager_decoder(artifact: LanguageModel, runtime: RuntimeSettings, threads: int):
    from core.generation.decoding import TorchDecoder

    _torch_threads(threads)
    return TorchDecoder(artifact.model.to(runtime.device), kv_cache=artifact.kv_cache)


def compiled_decoder(artifact: CompiledLanguageModel, runtime: RuntimeSettings, threads: int):
    from core.generation.decoding import CompiledDecoder

    _torch_threads(threads)
    return CompiledDecoder(artifact.model)


def graph_decoder(artifact: LanguageGraph, runtime: RuntimeSettings, threads: int):
    from core.generation.graphs import ort_decoder

    return ort_decoder(artifact.model_bytes, artifact.config, threads)


def openvino_decoder(artifact: OpenVINOLanguageModel, runtime: RuntimeSettings, threads: int):
    from core.generation.graphs import openvino_decoder as stateful

    return stateful(artifact.model, artifact.config, threads)


def _profiler(kind: str):
    """The profiler of a language model's `kind` (`core.generation.profiling`), imported when a profile is taken."""
    def profile(prepared: Any, batches: Any, calls: int, progress: Any) -> Any:
        from core.generation.profiling import PROFILERS

        return PROFILERS[kind](prepared, batches, calls, progress)
    return profile


LM_RUNTIME = Runtime("lm", "an eager PyTorch language", _no_predictor, libraries=("transformers",),
                     fingerprint_libraries=("torch",), check=_eager_check, engine="torch-eager",
                     decoder=eager_decoder, family=FAMILY, profiler=_profiler("lm"))
LM_COMPILED_RUNTIME = Runtime("lm-compiled", "a compiled PyTorch language", _no_predictor,
                              fingerprint_libraries=("torch",), check=_cpu_only("a compiled language model"),
                              engine="torch-compiled", decoder=compiled_decoder, family=FAMILY,
                              shares_generations=False)
LM_ONNX_RUNTIME = Runtime("lm-onnx", "an ONNX language", _no_predictor, fingerprint_libraries=("onnxruntime",),
                          check=_cpu_only("an ONNX language model"), engine="onnxruntime", decoder=graph_decoder,
                          family=FAMILY, profiler=_profiler("lm-onnx"))
LM_OPENVINO_RUNTIME = Runtime("lm-openvino", "an OpenVINO language", _no_predictor,
                              fingerprint_libraries=("openvino",), check=_cpu_only("an OpenVINO language model"),
                              engine="openvino", decoder=openvino_decoder, family=FAMILY,
                              profiler=_profiler("lm-openvino"), shares_generations=False)
ENTRIES = (LM_RUNTIME, LM_COMPILED_RUNTIME, LM_ONNX_RUNTIME, LM_OPENVINO_RUNTIME)
