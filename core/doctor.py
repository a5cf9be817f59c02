"""The doctor: rule-based notes on a finished run, each with the figure that triggered it and what to try.

Pure: a rule reads the run (its recipe, runtime, metrics and environment) and the other done runs of
the same model on the same images (its FP32 baseline among them), and returns a `Finding` or None.
The engine stores the findings on every run when it finishes (`RunRecord.advice`); Results, Compare
and `python -m core show` print them.
A new rule is one function registered in RULES.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from core.models import generates
from core.registry import Registry
from core.store import RunRecord
from core.techniques import TECHNIQUES

# A call this short at batch 1 is mostly the runtime's per-call overhead, not the model's arithmetic.
OVERHEAD_CALL_MS = 0.2
# A change that buys less than this against FP32 bought nothing worth its accuracy risk.
NO_GAIN = 1.1
# A run that lost more than this share of its FP32 baseline's top-1 is no longer the same model.
LOST_SHARE = 0.05


@dataclass(frozen=True)
class Finding:
    """One note: the rule, the figure that triggered it and what to try."""

    rule: str
    figure: str
    advice: str

    def words(self) -> str:
        return f"{self.figure}: {self.advice}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Peers:
    """What a rule may compare a run with: its FP32 baseline and the other done runs on the same images."""

    baseline: RunRecord | None
    runs: Sequence[RunRecord] = ()

    def without(self, run: RunRecord, technique: str) -> RunRecord | None:
        """The newest peer with the run's recipe less `technique`, the same runtime and the same load, else the
        baseline under the same load: what that one step should be judged against (dynamic INT8 against ONNX
        Runtime FP32, not eager FP32; two concurrent streams against two, not one)."""
        recipe = [step for step in run.recipe if step["technique"] != technique]
        runtime = {k: v for k, v in run.runtime.items() if k != "timing"}
        for peer in reversed(self.runs):
            if peer.id != run.id and [s["technique"] for s in peer.recipe] == [s["technique"] for s in recipe] \
                    and {k: v for k, v in peer.runtime.items() if k != "timing"} == runtime and _same_load(peer, run):
                return peer
        return self.baseline if self.baseline is not None and _same_load(self.baseline, run) else None


def _same_load(a: RunRecord, b: RunRecord) -> bool:
    """Whether two runs were timed under the same load (scenario and its settings): only then do speeds compare."""
    return a.scenario == b.scenario and (a.scenario_config or {}) == (b.scenario_config or {})


Rule = Callable[[RunRecord, Peers], Finding | None]
RULES: Registry[Rule] = Registry("doctor rule")


def rule(name: str) -> Callable[[Rule], Rule]:
    def register(check: Rule) -> Rule:
        return RULES.register(name, check)
    return register


def advise(run: RunRecord, baseline: RunRecord | None, runs: Sequence[RunRecord] = ()) -> list[Finding]:
    """Every rule's finding on a finished run, given its FP32 baseline and the other done runs on its images."""
    peers = Peers(baseline, runs)
    found = (check(run, peers) for _, check in RULES)
    return [f for f in found if f is not None]


def _techniques(run: RunRecord) -> list[str]:
    return [step["technique"] for step in run.recipe]


def _speedup(run: RunRecord, baseline: RunRecord | None) -> float | None:
    if baseline is None or baseline.id == run.id:
        return None
    ours, theirs = run.metrics.get("latency_p50_ms"), baseline.metrics.get("latency_p50_ms")
    return theirs / ours if ours and theirs else None


# A profile's share of time that makes an INT8 model slow for a reason worth saying.
FLOAT_SHARE_PCT, CONVERSION_SHARE_PCT = 50.0, 15.0
# A language model's decode: data movement worth fusing away, and weight-only matmuls too small a share to pay.
DECODE_LAYOUT_SHARE_PCT, WEIGHT_ONLY_SHARE_PCT = 30.0, 50.0


def profile_advice(summary: dict[str, Any]) -> list[Finding]:
    """What an operator profile says about a model's speed (Diagnose and `core profile`): a quantized model's time
    in float or in conversions; a language model's decode step moving data, or its weight-only matmuls too small a
    share of it for fewer bits to pay."""
    found = []
    if summary.get("call") == "token" and summary["layout_share_pct"] > DECODE_LAYOUT_SHARE_PCT:
        found.append(Finding("decode_moves_data", f"{summary['layout_share_pct']:.0f}% of a token's operator time "
                                                  "moves data (the KV cache's Concat, attention's Reshape/Transpose)",
                             "a larger batch spreads it over more tokens per step" if summary["engine"] == "lm-openvino"
                             else "a runtime that keeps the cache in place does less of it: compare lm_openvino (a "
                                  "stateful request) on the front"))
    if summary.get("weight_only") and summary["weight_only_share_pct"] < WEIGHT_ONLY_SHARE_PCT:
        share = summary["weight_only_share_pct"]
        found.append(Finding("weights_not_the_time", f"{share:.0f}% of a token's operator time is in the weight-only "
                                                     "matmuls",
                             f"fewer weight bits can shorten only that share: even free matmuls would make a token "
                             f"at most {100.0 / (100.0 - share):.2f}x faster; the rest of the step (attention, data "
                             "movement) bounds it"))
    if not summary.get("quantized"):
        return found
    if summary["float_share_pct"] > FLOAT_SHARE_PCT:
        found.append(Finding("time_in_float",
                             f"{summary['float_share_pct']:.0f}% of the operator time is in operators still in float",
                             "quantize them too (static INT8 instead of dynamic, fewer nodes in keep_float), starting "
                             "with the profile's slowest nodes"))
    if summary["conversion_share_pct"] > CONVERSION_SHARE_PCT and summary["engine"] == "openvino":
        found.append(Finding("unfused_qdq", f"{summary['conversion_share_pct']:.0f}% of the operator time is "
                                            "FakeQuantize/Convert left unfused",
                             "OpenVINO could not fold these quantizers into INT8 kernels: quantize with nncf_int8 "
                             "(it places them where OpenVINO fuses them), or keep the graph in onnxruntime"))
    elif summary["conversion_share_pct"] > CONVERSION_SHARE_PCT:
        found.append(Finding("unfused_qdq", f"{summary['conversion_share_pct']:.0f}% of the operator time is "
                                            "QuantizeLinear/DequantizeLinear/Cast left unfused",
                             "onnxruntime could not fuse the Q/DQ pairs around these operators: keep graph "
                             "optimizations on (ort:graph_optimization=all) and prefer operators it runs in INT8 "
                             "(Conv, MatMul, Gemm)"))
    return found


def _no_gain(run: RunRecord, peers: Peers, technique: str) -> str | None:
    """"1.02x the speed of run 7 (onnx_export)" when `technique` is in the run and buys less than NO_GAIN over the
    same recipe without it; else None."""
    before = peers.without(run, technique)
    speedup = _speedup(run, before)
    if technique not in _techniques(run) or speedup is None or speedup >= NO_GAIN:
        return None
    return f"{speedup:.2f}x the speed of run {before.id} ({before.recipe_summary})"


def _inputs(run: RunRecord) -> dict[str, Any]:
    """What the run stored about its inputs (a text run's token lengths and padding); empty for images."""
    return (run.environment or {}).get("inputs") or {}


def _dynamic_int8_no_gain(run: RunRecord, peers: Peers) -> tuple[str, str] | None:
    """The run's dynamic quantizer and "0.95x the speed of run 7 (…)" when it bought less than NO_GAIN (a
    classifier's: a language model's decode step is judged by what bounds it, `weights_no_gain`)."""
    if generates(run.model_source):  # a language model's: judged by what bounds its decode step
        return None
    dynamic = [t for t in _techniques(run) if TECHNIQUES.get(t).quantization == "dynamic"]
    figure = _no_gain(run, peers, dynamic[0]) if dynamic else None
    return None if figure is None else (dynamic[0], figure)


@rule("dynamic_int8_on_convolutions")
def dynamic_int8_on_convolutions(run: RunRecord, peers: Peers) -> Finding | None:
    found = None if _inputs(run).get("kind") == "text" else _dynamic_int8_no_gain(run, peers)
    if found is None:
        return None
    return Finding("dynamic_int8_on_convolutions", f"{found[0]} is {found[1]}",
                   "dynamic INT8 quantizes MatMul/Gemm only and this model's time is in its convolutions: try "
                   "onnx_export → ort_static_int8")


@rule("dynamic_int8_transformer_no_gain")
def dynamic_int8_transformer_no_gain(run: RunRecord, peers: Peers) -> Finding | None:
    found = _dynamic_int8_no_gain(run, peers) if _inputs(run).get("kind") == "text" else None
    if found is None:
        return None
    flags = (run.environment or {}).get("isa") or []
    vnni = any("vnni" in flag for flag in flags)
    return Finding("dynamic_int8_transformer_no_gain", f"{found[0]} is {found[1]}",
                   "dynamic INT8 quantizes every activation again on each call, and "
                   + ("" if vnni else "this CPU has no VNNI, so its INT8 products are no cheaper than FP32; ")
                   + "try static INT8 of the whole transformer (onnx_export → nncf_int8 → openvino), or quantize "
                   "only the feed-forward MatMuls (keep_float on the attention's)")


# Padding that is more than this share of the tokens run is mostly wasted work.
PADDING_WASTE_PCT = 50.0


@rule("padding_waste")
def padding_waste(run: RunRecord, peers: Peers) -> Finding | None:
    inputs = _inputs(run)
    if inputs.get("kind") != "text" or (inputs.get("padding_pct") or 0) <= PADDING_WASTE_PCT:
        return None
    fixed = inputs.get("padding") == "fixed"
    figure = (f"{inputs['padding_pct']:.0f}% of the tokens run were padding (padded to "
              f"{inputs['padded_length_mean']:.0f} on average, texts of {inputs['tokens_p50']:.0f} tokens at the "
              "median)")
    return Finding("padding_waste", figure,
                   ("pad each call to its longest text (padding=dynamic), or " if fixed else
                    "batch texts of similar length together (a smaller batch pads less), or ")
                   + f"lower max_length towards the texts' p90 ({inputs['tokens_p90']:.0f} tokens)")


@rule("attention_not_fused")
def attention_not_fused(run: RunRecord, peers: Peers) -> Finding | None:
    fusion = ((run.environment or {}).get("steps") or {}).get("transformer_optimize")
    if not fusion or fusion.get("attention_fused"):
        return None
    fused = ", ".join(f"{name} {count}" for name, count in fusion.get("fused", {}).items()) or "nothing"
    return Finding("attention_not_fused", f"the transformer optimizer fused no Attention (it fused {fused})",
                   fusion.get("why_not") or "export the model so that its attention is a pattern onnxruntime knows")


def _repair(run: RunRecord) -> str:
    """What to try when a run lost accuracy, from what its steps declare."""
    for step in run.recipe:
        config, technique = step.get("config") or {}, TECHNIQUES.get(step["technique"])
        if "recovery" in {f.name for f in fields(technique.config_cls)}:
            if config.get("recovery", technique.config_cls().recovery) == "none":
                return (f"{step['technique']} ran without recovery: set recovery to finetune or distill, or prune a "
                        "smaller share")
            return f"{step['technique']} removed too much: prune a smaller share, or recover for more epochs"
        if technique.precision == "int8":
            return (f"{step['technique']} lost it in quantization: find the nodes that lost it on Diagnose and keep "
                    "them in float, or try another calibration method or per-channel weights")
    return "one of its steps changes the model's answers: try its steps one at a time to find which"


@rule("accuracy_lost")
def accuracy_lost(run: RunRecord, peers: Peers) -> Finding | None:
    top1, base = run.metrics.get("top1"), (peers.baseline.metrics.get("top1") if peers.baseline else None)
    if top1 is None or base is None or peers.baseline.id == run.id or base - top1 <= LOST_SHARE * base:
        return None
    return Finding("accuracy_lost", f"top-1 {top1:.1f}% against {base:.1f}% in FP32 ({(base - top1) / base:.0%} of it "
                                    f"lost, more than {LOST_SHARE:.0%})", _repair(run))


@rule("unstructured_sparsity")
def unstructured_sparsity(run: RunRecord, peers: Peers) -> Finding | None:
    figure = _no_gain(run, peers, "unstructured_prune")
    if figure is None:
        return None
    return Finding("unstructured_sparsity", f"unstructured pruning is {figure}",
                   "dense kernels multiply the zeros too: prune whole channels (structured_prune) to save time")


@rule("fp16_on_cpu")
def fp16_on_cpu(run: RunRecord, peers: Peers) -> Finding | None:
    half = [t for t in _techniques(run) if TECHNIQUES.get(t).precision == "fp16"]
    if not half or run.runtime.get("device", "cpu") != "cpu":
        return None
    return Finding("fp16_on_cpu", f"FP16 on the CPU ({half[0]})",
                   "the CPU provider computes FP16 at FP32 speed (with casts): keep FP16 for the GPU, and on this "
                   "CPU try ort_static_int8, or bf16 where the CPU has AVX512-BF16 or AMX")


@rule("openvino_no_faster")
def openvino_no_faster(run: RunRecord, peers: Peers) -> Finding | None:
    figure = _no_gain(run, peers, "openvino")
    if figure is None:
        return None
    return Finding("openvino_no_faster", f"OpenVINO is {figure}",
                   "at this model size and batch OpenVINO's per-call cost outweighs its kernels: keep the model in "
                   "the other engine (drop the openvino step), or give OpenVINO bigger calls (a larger batch)")


@rule("threads_over_cores")
def threads_over_cores(run: RunRecord, peers: Peers) -> Finding | None:
    threads, cores = run.runtime.get("threads"), (run.environment or {}).get("logical_cores")
    if not threads or not cores or threads <= cores:
        return None
    return Finding("threads_over_cores", f"{threads} threads on {cores} cores",
                   f"threads beyond the cores only wait for each other: set threads to {cores} or fewer")


@rule("per_call_overhead")
def per_call_overhead(run: RunRecord, peers: Peers) -> Finding | None:
    p50 = run.metrics.get("latency_p50_ms")
    if (run.runtime.get("batch") or 1) != 1 or p50 is None or p50 >= OVERHEAD_CALL_MS or "cache" in _techniques(run):
        return None
    return Finding("per_call_overhead", f"p50 {p50:.3f} ms per call at batch 1",
                   "a call this short is mostly the runtime's per-call overhead: batch requests (a larger batch, or "
                   "the server scenario's max_batch) for throughput, and compare latency per image")


@rule("kv_cache_off")
def kv_cache_off(run: RunRecord, peers: Peers) -> Finding | None:
    if "no_kv_cache" not in _techniques(run):
        return None
    cached = peers.without(run, "no_kv_cache")
    speedup = _speedup(run, cached)
    figure = "generated without its KV cache" + (f": {speedup:.2f}x the speed of run {cached.id} "
                                                 f"({cached.recipe_summary}), which keeps it" if speedup else "")
    return Finding("kv_cache_off", figure, "every new token runs the whole sequence again: keep the cache (drop "
                                           "no_kv_cache) — this run only shows what the cache buys")


@rule("weights_no_gain")
def weights_no_gain(run: RunRecord, peers: Peers) -> Finding | None:
    """Weight-only compression that bought no speed, with what bounds the decode step (the uncompressed run's
    measure where there is one, else the run's own) saying why."""
    compressed = [t for t in _techniques(run) if TECHNIQUES.get(t).quantization == "weight-only"]
    figure = _no_gain(run, peers, compressed[0]) if compressed else None
    before = peers.without(run, compressed[0]) if compressed else None
    bound = ((before.environment or {}).get("decode_bound") if before else None) or \
        (run.environment or {}).get("decode_bound")
    if figure is None or not bound:
        return None
    figure = (f"{compressed[0]} is {figure}; a decode step read its weights at {bound['share_pct']:.0f}% of this "
              "machine's bandwidth")
    if bound["memory_bound"]:
        return Finding("weights_no_gain", figure + " (memory-bound: fewer weight bytes should have bought speed)",
                       "the kernel likely unpacks the weights at every call instead of reading fewer bytes: compute in "
                       "INT8 (matmul_nbits:accuracy_level=4), or compress in the engine that fuses it "
                       "(nncf_weight_compression in OpenVINO)")
    return Finding("weights_no_gain", figure + " (bound by per-operator overhead, not memory)",
                   "at this model size the weights are not what a token waits for: a fused engine (lm_onnx_export, "
                   "lm_openvino) or static_cache_compile buys the speed; keep the compression for size")


@rule("noisy")
def noisy(run: RunRecord, peers: Peers) -> Finding | None:
    if not run.noisy:
        return None
    return Finding("noisy", f"other processes used {run.metrics.get('other_cpu_pct') or 0:.0f}% of a core while "
                            "it timed", "its latency may be inflated: measure it again on a quiet machine, or "
                                        "re-measure it side by side with its baseline on Compare")
