"""`cache`: an LRU response cache keyed by a hash of the input, in front of whatever runs the model."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from core.artifacts import Artifact
from core.options import option
from core.techniques.base import BuildContext, ExportRule, Technique


@dataclass(frozen=True)
class CacheConfig:
    capacity: int = option(256, "responses kept (least recently used are evicted)", minimum=1, maximum=10_000_000)
    repeat_ratio: float = option(0.5, "share of timed queries that repeat an earlier input (the measured query "
                                      "stream; the rest are unseen inputs while the subset lasts)",
                                 minimum=0.0, maximum=1.0)
    zipf_exponent: float = option(1.2, "popularity skew of repeated inputs (Zipf law over first appearance); "
                                       "larger = a few inputs repeat most", minimum=1.01, maximum=5.0)


def apply(artifact: Artifact, config: CacheConfig, ctx: BuildContext) -> Artifact:
    # The model is untouched: the predictor that runs it gets a cache in front (core.runtimes.cache).
    return replace(artifact, response_cache=asdict(config))


TECHNIQUE = Technique(
    name="cache", summary="response cache: LRU keyed by an input hash; hits skip the model",
    config_cls=CacheConfig, accepts=frozenset({"torch", "compiled", "onnx", "openvino"}), apply=apply, position="last",
    recommendable=False,  # cache hits are not the model's speed
    export=lambda kind: ExportRule("runtime", "the response cache is a serving choice: the ONNX file holds the model "
                                   "only, and cache hits are not part of its speed"))
