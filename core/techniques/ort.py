"""`ort`: how the ONNX Runtime session runs the model (graph optimizations, threads, execution mode)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from core.artifacts import OnnxArtifact
from core.options import option
from core.techniques.base import BuildContext, Explored, ExportRule, Technique

GRAPH_LEVELS = ("disable", "basic", "extended", "all")


@dataclass(frozen=True)
class OrtConfig:
    graph_optimization: str = option("all", "ONNX Runtime graph optimization level", choices=GRAPH_LEVELS)
    intra_op_threads: int | None = option(None, "threads inside one operator; empty = the run's threads",
                                          minimum=1, maximum=256)
    inter_op_threads: int | None = option(None, "threads across operators (parallel mode only); empty = 1",
                                          minimum=1, maximum=256)
    execution_mode: str = option("sequential", "run operators one at a time or in parallel",
                                 choices=("sequential", "parallel"))
    io_binding: bool = option(False, "bind input and output buffers once (saves copies; matters most on GPUs)")


def apply(artifact: OnnxArtifact, config: OrtConfig, ctx: BuildContext) -> OnnxArtifact:
    return replace(artifact, session=asdict(config))


TECHNIQUE = Technique(
    name="ort", summary="ONNX Runtime session settings: graph optimization level, intra/inter-op threads",
    config_cls=OrtConfig, accepts=frozenset({"onnx"}), apply=apply, position="last", lossless=lambda config: True,
    explore=Explored("engine", ("ort:graph_optimization=basic",), starts=frozenset({"onnx"})),
    export=lambda kind: ExportRule("runtime", "ONNX Runtime session settings are not part of an ONNX file: they are "
                                   "in its metadata (inferscope.session); set them on your InferenceSession",
                                   rebuilt=True))
