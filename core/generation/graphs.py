"""A causal LM as one ONNX graph with its KV cache as inputs and outputs (`input_ids`, `past.<layer>.key|value` ->
`logits`, `present.<layer>.key|value`), exported by torch.export, so ONNX Runtime and OpenVINO run the same graph a
step at a time: the prompt with an empty past, then one token with the presents fed back. Weight-only compression
rewrites that graph: ONNX Runtime's MatMulNBits (INT4/INT8, round to nearest), or NNCF's `compress_weights` for
OpenVINO."""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from core.generation.decoding import Clock, Generated, greedy

IDS = "input_ids"


def cache_shape(config: Any) -> tuple[int, int, int]:
    """(layers, key/value heads, head size) of a causal LM's KV cache."""
    text = config.get_text_config(decoder=True) if hasattr(config, "get_text_config") else config
    layers = text.num_hidden_layers
    heads = getattr(text, "num_key_value_heads", None) or text.num_attention_heads
    head_size = getattr(text, "head_dim", None) or text.hidden_size // text.num_attention_heads
    return layers, heads, head_size


def past_names(layers: int) -> list[str]:
    return [f"past.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]


def present_names(layers: int) -> list[str]:
    return [f"present.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]


def _with_cache(model: Any, layers: int):
    """The model as a module of (input_ids, *flat past) -> (logits, *flat present)."""
    import torch
    from transformers.cache_utils import DynamicCache

    class WithCache(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, *past):
            cache = DynamicCache([(past[2 * i], past[2 * i + 1]) for i in range(layers)], config=self.model.config)
            out = self.model(input_ids=input_ids, cache=cache, use_cache=True)
            return (out.logits, *(t for layer in out.cache.layers for t in (layer.keys, layer.values)))

    return WithCache().eval()


def export_with_cache(model: Any, path: Path) -> Path:
    """Write `model` (a transformers causal LM in FP32) as an ONNX graph with its KV cache as inputs and outputs;
    batch, sequence and past lengths are dynamic."""
    import torch
    from torch.export import Dim

    layers, heads, head_size = cache_shape(model.config)
    example = (torch.zeros((1, 3), dtype=torch.int64),
               *(torch.zeros((1, heads, 5, head_size)) for _ in range(2 * layers)))
    batch, sequence, past = Dim("batch"), Dim("sequence"), Dim("past")
    shapes = ({0: batch, 1: sequence}, tuple({0: batch, 2: past} for _ in range(2 * layers)))
    program = torch.onnx.export(_with_cache(model, layers), example, input_names=[IDS, *past_names(layers)],
                                output_names=["logits", *present_names(layers)], dynamo=True,
                                dynamic_shapes=shapes, optimize=True, verbose=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    program.save(str(path))
    return path


def matmul_nbits(source: Path, target: Path, bits: int = 4, block_size: int = 32, symmetric: bool = True,
                 accuracy_level: int | None = 4) -> Path:
    """Weight-only INT4/INT8 of every MatMul with a constant weight (ONNX Runtime's MatMulNBits, round to nearest,
    one scale per block of `block_size` weights). `accuracy_level` 4 lets the CPU kernel quantize activations to
    INT8 on the fly (its fast path: INT8 weights ran 6x slower without it on a 124M GPT-2 here); None keeps them
    float."""
    import onnx

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    # its import calls logging.basicConfig(level=INFO): every library's INFO lines would then reach the CLI's stderr
    root.handlers[:], root.level = handlers, level
    model = onnx.load(str(source))
    gemm_as_matmul(model)
    quantizer = MatMulNBitsQuantizer(model, bits=bits, block_size=block_size,
                                     is_symmetric=symmetric, accuracy_level=accuracy_level)
    quantizer.process()
    quantizer.model.save_model_to_file(str(target), use_external_data_format=False)
    return target


def gemm_as_matmul(model: Any) -> int:
    """Rewrite each Gemm with a constant weight as MatMul (+ Add of its bias), in place; returns how many. The
    exporter writes GPT-2's projections as Gemm, and MatMulNBits quantizes MatMul only; the arithmetic is the same."""
    from onnx import helper, numpy_helper

    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    rewritten, nodes = 0, []
    for node in graph.node:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if (node.op_type != "Gemm" or node.input[1] not in weights or attrs.get("transA", 0)
                or attrs.get("alpha", 1.0) != 1.0 or attrs.get("beta", 1.0) != 1.0):
            nodes.append(node)
            continue
        weight = weights[node.input[1]]
        if attrs.get("transB", 0):
            transposed = numpy_helper.from_array(numpy_helper.to_array(weight).T.copy(), f"{weight.name}.t")
            graph.initializer.append(transposed)
            weight_name = transposed.name
        else:
            weight_name = weight.name
        biased = len(node.input) > 2 and node.input[2]
        product = f"{node.output[0]}.matmul" if biased else node.output[0]
        nodes.append(helper.make_node("MatMul", [node.input[0], weight_name], [product], name=f"{node.name}.matmul"))
        if biased:
            nodes.append(helper.make_node("Add", [product, node.input[2]], [node.output[0]], name=f"{node.name}.add"))
        rewritten += 1
    del graph.node[:]
    graph.node.extend(nodes)
    return rewritten


def _next_token(logits: np.ndarray) -> np.ndarray:
    """The argmax of the last position, (batch, 1) int64 (the first of tied logits)."""
    return logits[:, -1].argmax(-1)[:, None].astype(np.int64)


class GraphDecoder:
    """A decoder over an exported graph in one engine: `run(feeds) -> outputs` in the graph's output order."""

    def __init__(self, run, layers: int, heads: int, head_size: int, engine: str) -> None:
        self._run = run
        self.layers, self.heads, self.head_size = layers, heads, head_size
        self.engine = engine
        self._past = past_names(layers)

    def _empty(self, batch: int) -> dict[str, np.ndarray]:
        empty = np.zeros((batch, self.heads, 0, self.head_size), np.float32)
        return {name: empty for name in self._past}

    def logits(self, ids: np.ndarray) -> np.ndarray:
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        return np.asarray(self._run({IDS: ids, **self._empty(len(ids))})[0], dtype=np.float32)

    def generate(self, prompt: np.ndarray, new_tokens: int, clock: Clock = time.perf_counter_ns) -> Generated:
        ids = np.ascontiguousarray(prompt, dtype=np.int64)
        state: dict[str, Any] = {}

        def feed(feeds: dict[str, np.ndarray]) -> np.ndarray:
            state["out"] = self._run(feeds)
            return _next_token(state["out"][0])

        chosen, stamps = greedy(lambda: feed({IDS: ids, **self._empty(len(ids))}),
                                lambda token, step: feed({IDS: token, **dict(zip(self._past, state["out"][1:]))}),
                                new_tokens, clock)
        return Generated(np.concatenate(chosen, axis=1), stamps)


def ort_session(graph: Path | bytes, threads: int | None = None, profile_prefix: str | None = None) -> Any:
    """The graph (a file, or its bytes) in an ONNX Runtime CPU session; with its profiler on when `profile_prefix`
    (where its trace is written) is given."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    if profile_prefix:
        options.enable_profiling, options.profile_file_prefix = True, profile_prefix
    return ort.InferenceSession(graph if isinstance(graph, bytes) else str(graph), options,
                                providers=["CPUExecutionProvider"])


def ort_decoder(graph: Path | bytes | Any, config: Any, threads: int | None = None,
                label: str = "onnxruntime") -> GraphDecoder:
    """The graph (a file, its bytes, or a session of it: `ort_session`) as a decoder in ONNX Runtime's CPU
    provider."""
    session = graph if hasattr(graph, "run") else ort_session(graph, threads)
    return GraphDecoder(lambda feeds: session.run(None, feeds), *cache_shape(config), engine=label)


def openvino_model(path: Path):
    """The graph read by OpenVINO (not yet compiled), for NNCF to compress or to compile."""
    import openvino as ov

    return ov.Core().read_model(str(path))


def nncf_compress(model: Any, mode: str = "int4_sym", group_size: int = 32):
    """NNCF's data-free weight compression of an OpenVINO model (INT8 or INT4, round to nearest with NNCF's
    default ratio of INT4 layers: the first and last projections stay INT8)."""
    import nncf

    nncf.set_log_level(logging.WARNING)  # its bit-width table would interleave with the CLI's progress lines
    kwargs = {"group_size": group_size} if mode.startswith("int4") else {}
    return nncf.compress_weights(model, mode=nncf.CompressWeightsMode(mode), **kwargs)


def openvino_decoder(model: Any, config: Any, threads: int | None = None, label: str = "openvino",
                     counters: bool = False) -> "StatefulDecoder":
    """An OpenVINO model (read or compressed) made stateful — its KV cache kept inside the request between steps,
    as optimum-intel and OpenVINO GenAI run a language model — and compiled for the CPU, one stream at a time, in
    FP32 (the CPU plugin would otherwise run BF16 where the CPU has it); `counters` turns on its performance
    counters (a profile)."""
    import openvino as ov
    from openvino._offline_transformations import apply_make_stateful_transformation

    layers, heads, head_size = cache_shape(config)
    model = model.clone()
    apply_make_stateful_transformation(model, dict(zip(past_names(layers), present_names(layers))))
    properties = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}
    if threads:
        properties["INFERENCE_NUM_THREADS"] = threads
    if counters:
        properties["PERF_COUNT"] = True
    request = ov.Core().compile_model(model, "CPU", properties).create_infer_request()
    return StatefulDecoder(request, heads, head_size, label)


class StatefulDecoder:
    """A compiled stateful OpenVINO request: each call feeds only `input_ids`; the cache lives in its state."""

    def __init__(self, request: Any, heads: int, head_size: int, engine: str) -> None:
        self.request, self.heads, self.head_size, self.engine = request, heads, head_size, engine
        self.after_step: Any = None  # called with the request after each step (a profile reads its counters)

    def _start(self, batch: int) -> None:
        import openvino as ov

        self.request.reset_state()
        # the state's initial value would take batch 0 from the graph's dynamic shape: start it empty at this batch
        empty = np.zeros((batch, self.heads, 0, self.head_size), np.float32)
        for state in self.request.query_state():
            state.state = ov.Tensor(empty)

    def _run(self, ids: np.ndarray) -> np.ndarray:
        logits = self.request.infer({IDS: ids})[0]
        if self.after_step is not None:
            self.after_step(self.request)
        return logits

    def logits(self, ids: np.ndarray) -> np.ndarray:
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        self._start(len(ids))
        return np.asarray(self._run(ids), dtype=np.float32)

    def generate(self, prompt: np.ndarray, new_tokens: int, clock: Clock = time.perf_counter_ns) -> Generated:
        ids = np.ascontiguousarray(prompt, dtype=np.int64)

        def prefill() -> np.ndarray:
            self._start(len(ids))
            return _next_token(self._run(ids))

        chosen, stamps = greedy(prefill, lambda token, step: _next_token(self._run(token)), new_tokens, clock)
        return Generated(np.concatenate(chosen, axis=1), stamps)


def weight_bytes(model: Any) -> int:
    """The bytes of an OpenVINO model's constants (its weights, in whatever format they are stored)."""
    return sum(op.get_byte_size() for op in model.get_ops() if op.get_type_name() == "Constant")
