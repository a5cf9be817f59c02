"""Text generation, measured in one process, interleaved: the offline default language model (`gpt2-bbc`, a small
GPT-2 trained here on BBC News) and a GPT-2-small-sized model with random weights (124M parameters; latency only),
prompt 128 tokens, 64 new tokens, greedy, batch 1: eager PyTorch without and with its KV cache, torch.compile over
a static cache, ONNX Runtime and OpenVINO (one exported graph with the cache as inputs and outputs; OpenVINO keeps
it in a stateful request), and the weight-only formats (MatMulNBits INT4/INT8 in ONNX Runtime, NNCF INT4/INT8 in
OpenVINO, torchao INT8 and BF16 in PyTorch). Quality on the default model's held-out articles: perplexity (first
256 tokens of each), the mean KL divergence from FP32's next-token distribution, and the share of FP32's 64 greedy
tokens each repeats.

Target: the best configuration within 5% of FP32 perplexity reaches at least 2x the tokens/s of eager PyTorch with
its KV cache. Variants are timed in shuffled rounds; the median over rounds is reported.

    .venv/bin/python benchmarks/generate.py [--rounds 5] [--seconds 2] [--prompt 128] [--new 64] [--batch 1]
        [--skip-large] [--model distilgpt2|FOLDER] [--corpus bbc-news-articles|wikitext-2]
"""
from __future__ import annotations

import argparse
import copy
import random
import statistics
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402

BASE = "eager, KV cache"
PPL_BUDGET_PCT = 5.0


def variants(model, folder: Path) -> dict:
    """Each configuration's decoder, built by core.generation's code."""
    import torch
    from torchao.quantization import Int8WeightOnlyConfig, quantize_

    from core.generation import graphs
    from core.generation.decoding import CompiledDecoder, TorchDecoder
    from core.generation.weights import as_linear

    config = model.config
    fp32 = graphs.export_with_cache(model, folder / "fp32.onnx")
    linear = copy.deepcopy(model)
    as_linear(linear)
    built = {"eager, no KV cache": TorchDecoder(model, kv_cache=False), BASE: TorchDecoder(model),
             "torch.compile, static cache": CompiledDecoder(copy.deepcopy(model))}
    int8 = copy.deepcopy(linear)
    quantize_(int8, Int8WeightOnlyConfig())
    built["eager, torchao INT8 weight-only"] = TorchDecoder(int8)
    built["eager, BF16"] = TorchDecoder(copy.deepcopy(linear).to(torch.bfloat16))
    built["ONNX Runtime FP32"] = graphs.ort_decoder(fp32, config)
    built["ONNX Runtime INT4 (MatMulNBits, block 32, INT8 compute)"] = graphs.ort_decoder(
        graphs.matmul_nbits(fp32, folder / "int4.onnx", bits=4), config)
    built["ONNX Runtime INT8 (MatMulNBits, block 32, INT8 compute)"] = graphs.ort_decoder(
        graphs.matmul_nbits(fp32, folder / "int8.onnx", bits=8), config)
    built["OpenVINO FP32 (stateful)"] = graphs.openvino_decoder(graphs.openvino_model(fp32), config)
    built["OpenVINO, NNCF INT8 weights"] = graphs.openvino_decoder(
        graphs.nncf_compress(graphs.openvino_model(fp32), "int8_asym"), config)
    built["OpenVINO, NNCF INT4 weights (group 32)"] = graphs.openvino_decoder(
        graphs.nncf_compress(graphs.openvino_model(fp32), "int4_sym"), config)
    return built


def interleaved(decoders: dict, prompts: np.ndarray, new: int, rounds: int, seconds: float,
                batch: int = 1) -> dict[str, dict]:
    """Median over shuffled rounds of each decoder's tokens/s, inter-token p50 and time to first token p50."""
    from core.bench.timing import TimingConfig
    from core.generation.timing import time_generation

    config = TimingConfig(warmup=1, warmup_seconds=0.2, min_repeats=2, min_seconds=seconds,
                          max_seconds=seconds * 10)
    per_round: dict[str, list] = {name: [] for name in decoders}
    for r in range(rounds):
        order = list(decoders)
        random.Random(r).shuffle(order)
        for name in order:
            metrics = time_generation(decoders[name], prompts, new, config, batch).metrics()
            per_round[name].append((metrics["generated_tokens_per_s"], metrics["itl_p50_ms"], metrics["ttft_p50_ms"]))
        print(f"  round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    return {name: {"tokens_per_s": statistics.median(v[0] for v in values),
                   "itl_ms": statistics.median(v[1] for v in values),
                   "ttft_ms": statistics.median(v[2] for v in values)} for name, values in per_round.items()}


def quality(decoders: dict, windows: list, prompts: np.ndarray, new: int) -> dict[str, dict]:
    from core.generation.quality import greedy_agreement, quality_metrics, score

    reference = decoders[BASE]
    greedy = reference.generate(prompts, new).tokens
    out = {}
    for name, decoder in decoders.items():
        metrics = quality_metrics(score(decoder.logits, windows, reference_of=reference.logits))
        metrics.update(greedy_agreement(decoder.generate(prompts, new).tokens, greedy))
        out[name] = metrics
        print(f"  scored {name}", file=sys.stderr, flush=True)
    return out


def bound_words(model, speed: dict) -> str:
    """What bounds eager FP32's decode step on this machine (`core.generation.bound`)."""
    from core.generation.bound import decode_bound, measure_bandwidth

    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    return decode_bound(weights, speed[BASE]["itl_ms"], measure_bandwidth()).words()


def table(title: str, speed: dict, scores: dict | None) -> str | None:
    """Print the results table; return the recommended configuration (None without scores)."""
    base = speed[BASE]["tokens_per_s"]
    print(f"\n{title}\n")
    header = "| configuration | tokens/s | vs eager + KV cache | inter-token p50 ms | first token p50 ms |"
    if scores:
        header += " perplexity | Δ vs FP32 | greedy tokens kept | KL from FP32 |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    ppl0 = scores[BASE]["perplexity"] if scores else None
    for name, value in speed.items():
        row = (f"| {name} | {value['tokens_per_s']:.0f} | {value['tokens_per_s'] / base:.2f}x | {value['itl_ms']:.2f} "
               f"| {value['ttft_ms']:.2f} |")
        if scores:
            s = scores[name]
            row += (f" {s['perplexity']:.2f} | {100 * (s['perplexity'] / ppl0 - 1):+.2f}% | "
                    f"{s['greedy_agreement']:.1f}% | {s['kl_mean']:.1e} |")
        print(row)
    if not scores:
        return None
    within = [n for n in speed if 100 * (scores[n]["perplexity"] / ppl0 - 1) <= PPL_BUDGET_PCT]
    best = max(within, key=lambda n: speed[n]["tokens_per_s"])
    ratio = speed[best]["tokens_per_s"] / base
    print(f"\nRecommended (fastest within {PPL_BUDGET_PCT:g}% of FP32 perplexity): {best}, {ratio:.2f}x eager with its "
          f"KV cache — target 2x {'met' if ratio >= 2 else 'not met'}")
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--prompt", type=int, default=128)
    parser.add_argument("--new", type=int, default=64)
    parser.add_argument("--batch", type=int, default=1, help="prompts generated together (at most 20)")
    parser.add_argument("--model", default=None, help="a causal LM by hub name or saved folder (e.g. distilgpt2) in "
                        "place of the offline default gpt2-bbc")
    parser.add_argument("--corpus", default="bbc-news-articles", choices=("bbc-news-articles", "wikitext-2"),
                        help="held-out text for perplexity and prompts")
    parser.add_argument("--skip-large", action="store_true", help="leave out the GPT-2-small-sized model")
    args = parser.parse_args()

    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from core.generation import corpus
    from core.generation.lm import LMOptions, load_causal_lm, trained_folder
    from core.progress import TqdmProgress
    from core.settings import load_settings

    settings = load_settings()
    print(f"torch threads {torch.get_num_threads()}", file=sys.stderr)
    if args.model:
        name = args.model
        model, tokenizer = load_causal_lm(args.model, settings)
    else:
        folder, record = trained_folder(LMOptions(), settings, TqdmProgress())
        model, tokenizer = load_causal_lm(str(folder), settings)
        name = f"gpt2-bbc ({record['params'] / 1e6:.1f}M parameters, trained here)"
    texts = corpus.held_out_texts(args.corpus, settings)
    windows = corpus.windows(tokenizer, texts, 256, 100)
    prompts = corpus.prompts(tokenizer, texts, args.prompt, 20)
    with tempfile.TemporaryDirectory() as work:
        decoders = variants(model, Path(work) / "default")
        scores = quality(decoders, windows, prompts, args.new)
        speed = interleaved(decoders, prompts, args.new, args.rounds, args.seconds, args.batch)
        table(f"{name} on {args.corpus}, prompt {args.prompt}, {args.new} new tokens, batch {args.batch}, "
              f"{args.rounds} interleaved rounds", speed, scores)
        print(f"\nEager FP32 with its KV cache: {bound_words(model, speed)}")
        if not args.skip_large:
            torch.manual_seed(0)
            large = GPT2LMHeadModel(GPT2Config()).eval()
            decoders = variants(large, Path(work) / "large")
            random_prompts = np.random.default_rng(0).integers(0, large.config.vocab_size,
                                                               (max(4, args.batch), args.prompt))
            speed = interleaved(decoders, random_prompts, args.new, args.rounds, args.seconds, args.batch)
            table(f"GPT-2-small-sized, random weights (124M parameters; latency only), prompt {args.prompt}, "
                  f"{args.new} new tokens, batch {args.batch}", speed, None)
            print(f"\nEager FP32 with its KV cache: {bound_words(large, speed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
