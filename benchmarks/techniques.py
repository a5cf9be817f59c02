"""The technique catalogue, measured in one process, interleaved, as speedup over eager FP32.

Part A: ResNet-18 at 224x224, random weights (latency only). Target: the best configuration >= 6x
        faster than eager FP32 at batch 1.
Part B: the default Fashion-MNIST model (trained here, cached): latency and top-1 on a 1000-image
        test subset. Target: the best configuration within 1 point of FP32 top-1 >= 3x faster, and
        >= 1.2x faster than the best of the catalogue before OpenVINO and NNCF (ONNX Runtime's).
ONNX Runtime and OpenVINO, FP32 and INT8 (onnxruntime's quantizer and NNCF) are interleaved alike.

Every variant is built with the same technique code the engine runs; then all predictors are timed
in rounds (each round times every variant for --seconds, in a shuffled order), and the median
per-call p50 over rounds is reported, so host drift hits all variants alike.

    .venv/bin/python benchmarks/techniques.py [--part a|b|both] [--batch 1] [--rounds 5] [--seconds 1.0]
"""
from __future__ import annotations

import argparse
import copy
import random
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore")

RESNET18 = {
    "eager FP32": [],
    "eager channels_last": ["channels_last"],
    "eager bf16": ["bf16"],
    "torch.compile + freezing": ["torch_compile"],
    "PT2E static INT8 + compile": ["pt2e_static_int8:calibration_size=32"],
    "50% unstructured pruning, eager": ["unstructured_prune:ratio=0.5"],
    "30% structured pruning, eager": ["structured_prune:ratio=0.3"],
    "30% structured pruning, ORT": ["structured_prune:ratio=0.3", "onnx_export"],
    "ORT FP32 (all optimizations)": ["onnx_export"],
    "ORT FP32 (no graph optimizations)": ["onnx_export", "ort:graph_optimization=disable"],
    "ORT FP16 (CPU EP)": ["onnx_export", "fp16"],
    "ORT dynamic INT8 (MatMul/Gemm)": ["onnx_export", "ort_dynamic_int8"],
    "ORT static INT8 QDQ per-channel MinMax": ["onnx_export", "ort_static_int8:calibration_size=32"],
    "OpenVINO FP32 (f32 precision hint)": ["onnx_export", "openvino"],
    "OpenVINO BF16 precision hint": ["onnx_export", "openvino:precision=bf16"],
    "OpenVINO FP32, converted from torch": ["openvino"],
    "ORT static INT8 QDQ file, in OpenVINO": ["onnx_export", "ort_static_int8:calibration_size=32", "openvino"],
    "ORT static INT8 QDQ S8S8 file, in OpenVINO": ["onnx_export",
                                                   "ort_static_int8:calibration_size=32,activation_type=QInt8",
                                                   "openvino"],
    "NNCF INT8, ORT": ["onnx_export", "nncf_int8:calibration_size=32"],
    "NNCF INT8, OpenVINO": ["onnx_export", "nncf_int8:calibration_size=32", "openvino"],
}
FASHION = {
    "eager FP32": [],
    "eager channels_last": ["channels_last"],
    "torch.compile + freezing": ["torch_compile"],
    "PT2E static INT8 + compile": ["pt2e_static_int8"],
    "50% unstructured pruning, eager": ["unstructured_prune:ratio=0.5"],
    "30% structured pruning + distill recovery, ORT": [
        "structured_prune:ratio=0.3,recovery=distill,recovery_epochs=1", "onnx_export"],
    "distilled lenet5 student, ORT": ["distill:epochs=3", "onnx_export"],
    "ORT FP32": ["onnx_export"],
    "ORT FP16 (CPU EP)": ["onnx_export", "fp16"],
    "ORT dynamic INT8 (MatMul/Gemm)": ["onnx_export", "ort_dynamic_int8"],
    "ORT static INT8 QDQ per-channel MinMax": ["onnx_export", "ort_static_int8"],
    "ORT static INT8 QDQ per-tensor Entropy": ["onnx_export",
                                              "ort_static_int8:per_channel=false,calibration_method=Entropy"],
    "ORT static INT8 QDQ per-channel, 1 thread": (["onnx_export", "ort_static_int8"], 1),
    "OpenVINO FP32 (f32 precision hint)": ["onnx_export", "openvino"],
    "OpenVINO BF16 precision hint": ["onnx_export", "openvino:precision=bf16"],
    "OpenVINO FP32, 1 thread": (["onnx_export", "openvino"], 1),
    "ORT static INT8 QDQ file, in OpenVINO": ["onnx_export", "ort_static_int8", "openvino"],
    "NNCF INT8, ORT": ["onnx_export", "nncf_int8"],
    "NNCF INT8, ORT, 1 thread": (["onnx_export", "nncf_int8"], 1),
    "NNCF INT8, OpenVINO": ["onnx_export", "nncf_int8", "openvino"],
    "NNCF INT8, OpenVINO, 1 thread": (["onnx_export", "nncf_int8", "openvino"], 1),
    "NNCF INT8 accuracy control (max drop 1), OpenVINO": ["onnx_export", "nncf_int8:max_drop=1", "openvino"],
}
# The catalogue before OpenVINO and NNCF (issue 18's baseline): part B compares the new best with its best.
NEW_ENGINES = ("openvino", "nncf_int8")


def variant(entry) -> tuple[list[str], int | None]:
    """A table entry -> (steps, threads): a list of steps runs on all cores, a (steps, threads) pair on `threads`."""
    return (entry, None) if isinstance(entry, list) else entry


def build(module, steps, ctx):
    """The variant exactly as the engine builds it (same steps, same code)."""
    from core.artifacts import TorchArtifact
    from core.engine import apply_steps
    from core.recipe import parse_step

    return apply_steps(TorchArtifact(copy.deepcopy(module)), [parse_step(spec) for spec in steps], ctx)


def predictor_for(module, entry, ctx, batch):
    from core.recipe import RuntimeSettings
    from core.runtimes import make_predictor

    steps, threads = variant(entry)
    return make_predictor(build(module, steps, ctx), RuntimeSettings(batch=batch, threads=threads))


def interleaved_p50(predictors: dict, batch_input: np.ndarray, rounds: int, seconds: float) -> dict[str, float]:
    """Median over rounds of each variant's per-call p50 (ms); every round visits every variant, shuffled."""
    from core.bench.timing import TimingConfig, measure

    natives = {name: p.prepare(batch_input) for name, p in predictors.items()}
    config = TimingConfig(warmup=5, min_repeats=10, min_seconds=seconds, max_seconds=seconds * 20)
    per_round: dict[str, list[float]] = {name: [] for name in predictors}
    for r in range(rounds):
        order = list(predictors)
        random.Random(r).shuffle(order)  # no variant always follows the same neighbour (thread pools spin)
        for name in order:
            stats = measure(predictors[name].run, natives[name], config, len(batch_input), first_ms=0.0)
            per_round[name].append(stats.percentile(50))
        print(f"  round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    return {name: statistics.median(values) for name, values in per_round.items()}


def fastest_lossless(p50: dict[str, float], variants: dict) -> str:
    """The fastest variant whose steps keep FP32 weights and arithmetic (`Technique.lossless`), all cores."""
    from core.comparable import is_lossless_recipe
    from core.recipe import parse_step

    def lossless(name: str) -> bool:
        steps, threads = variant(variants[name])
        return threads is None and is_lossless_recipe([parse_step(spec).to_dict() for spec in steps])
    return min((name for name in p50 if lossless(name)), key=p50.get)


def table(title: str, p50: dict[str, float], variants: dict, accuracy: dict[str, float] | None = None) -> None:
    """The table of docs/results.md (and the README's headline rows): p50, the speed-up against eager FP32 and against the fastest lossless variant."""
    base, free = p50["eager FP32"], fastest_lossless(p50, variants)
    print(f"\n{title}\n")
    header = f"| configuration | p50 ms | vs eager FP32 | vs fastest lossless ({free}) |" + \
        (" top-1 % | Δ vs FP32 |" if accuracy else "")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name, value in p50.items():
        row = f"| {name} | {value:.3f} | {base / value:.2f}x | {p50[free] / value:.2f}x |"
        if accuracy:
            row += f" {accuracy[name]:.2f} | {accuracy[name] - accuracy['eager FP32']:+.2f} |"
        print(row)


def context(input_spec, example, calibration, batch, **extra):
    from core.techniques import BuildContext

    return BuildContext(input_spec=input_spec, example=example, batch=batch, calibration=calibration, **extra)


def part_a(args) -> bool:
    import torch
    import torchvision

    from core.inputs import InputSpec

    torch.manual_seed(0)
    module = torchvision.models.resnet18().eval()
    spec = InputSpec(3, 224, 224, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), resize=256)
    rng = np.random.default_rng(0)
    images = rng.standard_normal((64, 3, 224, 224)).astype(np.float32)
    ctx = context(spec, images[:8], lambda n: images[:n], args.batch)
    predictors = {}
    for name, entry in RESNET18.items():
        start = time.perf_counter()
        predictors[name] = predictor_for(module, entry, ctx, args.batch)
        print(f"built {name} in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    p50 = interleaved_p50(predictors, images[:args.batch], args.rounds, args.seconds)
    table(f"ResNet-18 224x224, random weights, batch {args.batch} (latency only)", p50, RESNET18)
    speedup = {k: p50["eager FP32"] / v for k, v in p50.items()}
    best = max(speedup, key=speedup.get)
    ok = args.batch != 1 or speedup[best] >= 6.0
    print(f"\nbest configuration: {best}, {speedup[best]:.2f}x (target at batch 1: >= 6x): {'yes' if ok else 'NO'}")
    return ok


def part_b(args) -> bool:
    import torch

    from core.bench.accuracy import top_k
    from core.datasets import load_dataset
    from core.datasets.subset import evaluation_subset
    from core.engine import (
        calibration_images,
        load_images,
        predict_all,
        train_images,
        validation_images,
    )
    from core.models import DEFAULT_MODEL, build_model, parse_model
    from core.progress import TqdmProgress, no_progress
    from core.settings import load_settings

    settings = load_settings()
    model = build_model(parse_model(DEFAULT_MODEL), settings, TqdmProgress())
    dataset = load_dataset("fashion-mnist", settings, model.input_spec)
    subset = evaluation_subset(dataset, 1000, 0)
    images = load_images(subset, model, no_progress, "data")
    ctx = context(model.input_spec, images[:8], lambda n: calibration_images(dataset, subset, n, model), args.batch,
                  train=lambda limit: train_images(dataset, model, limit), reference=model.artifact.module,
                  validation=lambda calibration, size: validation_images(dataset, subset, calibration, size, model),
                  settings=settings, model_name=DEFAULT_MODEL)
    predictors, accuracy = {}, {}
    torch.manual_seed(0)
    for name, entry in FASHION.items():
        start = time.perf_counter()
        predictor = predictor_for(model.artifact.module, entry, ctx, args.batch)
        logits = predict_all(predictor, images, args.batch, no_progress, "evaluate")
        accuracy[name] = top_k(logits, subset.labels, 1).percent
        predictors[name] = predictor
        print(f"built {name} in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    p50 = interleaved_p50(predictors, images[:args.batch], args.rounds, args.seconds)
    table(f"{DEFAULT_MODEL} on Fashion-MNIST (1000-image test subset), batch {args.batch}", p50, FASHION, accuracy)
    within = {k: p50["eager FP32"] / v for k, v in p50.items() if accuracy[k] >= accuracy["eager FP32"] - 1.0}
    best = max(within, key=within.get)
    before = {k: v for k, v in within.items()
              if not any(step.split(":")[0] in NEW_ENGINES for step in variant(FASHION[k])[0])}
    old = max(before, key=before.get)
    gain = within[best] / within[old]
    ok = within[best] >= 3.0 and gain >= 1.2
    print(f"\nbest within 1 point of FP32 top-1: {best}, {within[best]:.2f}x (target >= 3x); before OpenVINO and "
          f"NNCF: {old}, {within[old]:.2f}x; gain {gain:.2f}x (target >= 1.2x): {'yes' if ok else 'NO'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("a", "b", "both"), default="both")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    ok = True
    if args.part in ("a", "both"):
        ok &= part_a(args)
    if args.part in ("b", "both"):
        ok &= part_b(args)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
