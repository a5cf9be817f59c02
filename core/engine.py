"""Build the model, apply the recipe, evaluate honestly, store the run."""
from __future__ import annotations

import copy
import json
import socket
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from core import comparable, doctor
from core.bench import env as env_mod
from core.bench import roofline
from core.bench.accuracy import fidelity, predicted, top_k
from core.bench.machine import ContentionMeter, machine_lock, noise_note
from core.bench.memory import PeakMemory
from core.bench.timing import LatencyStats, latency_figures, tail_notes
from core.datasets import load_dataset
from core.datasets.base import LoadedDataset, check_compatible
from core.datasets.subset import (
    Subset,
    calibration_subset,
    evaluation_subset,
    validation_subset,
)
from core.errors import InferScopeError, StoreUnavailable
from core.lifecycle import run_job
from core.model_files import localized
from core.models import MODELS, ModelRequest, build_model, generates
from core.models.base import LoadedModel
from core.options import format_spec, to_dict
from core.progress import Progress, no_progress
from core.recipe import Recipe, Step, recipe_from_json
from core.runtimes import (
    RUNTIMES,
    CachedPredictor,
    Predictor,
    RuntimeSettings,
    default_threads,
    make_predictor,
)
from core.scenarios import (
    SCENARIOS,
    LoadContext,
    QueryStream,
    ScenarioResult,
    request_pool,
    scenario_config,
)
from core.settings import Settings
from core.store import RunRecord, RunStore
from core.techniques import TECHNIQUES, BuildContext
from core.workdirs import job_folder

PREPROCESS_CHUNK = 256


def load_images(subset: Subset, model: LoadedModel, progress: Progress, stage: str) -> np.ndarray:
    """Prepare a subset's inputs in chunks (reporting progress) as the model's input spec says: one float32 NCHW
    array of images, or one packed int64 array of tokenized texts (`core.text.tokens.pack`)."""
    chunks = []
    for start in range(0, len(subset.indices), PREPROCESS_CHUNK):
        chunk = subset.indices[start:start + PREPROCESS_CHUNK]
        chunks.append(model.input_spec.prepare(subset.split, chunk))
        progress(stage, min(1.0, (start + len(chunk)) / len(subset.indices)))
    return np.concatenate(chunks)


def predict_all(predictor: Predictor, images: np.ndarray, batch: int, progress: Progress, stage: str,
                first_call: dict | None = None) -> np.ndarray:
    """Logits for all images at the run's batch size; the last batch is padded, so fixed-batch graphs work."""
    outputs = []
    for start in range(0, len(images), batch):
        chunk = images[start:start + batch]
        real = len(chunk)
        if real < batch:
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], batch - real, axis=0)])
        native = predictor.prepare(chunk)
        begin = time.perf_counter_ns()
        out = predictor.run(native)
        if first_call is not None and "ms" not in first_call:
            first_call["ms"] = (time.perf_counter_ns() - begin) / 1e6
        outputs.append(predictor.to_numpy(out)[:real])
        progress(stage, (start + real) / len(images))
    logits = np.concatenate(outputs)
    if not np.isfinite(logits).all():
        raise InferScopeError(f"the model produced NaN or infinite outputs during {stage}; "
                              "the technique broke the model — check its options")
    return logits


@dataclass
class Measurement:
    metrics: dict[str, Any]
    samples_ms: list[float]
    notes: list[str]
    environment: dict[str, Any]
    engine: str
    noisy: bool = False  # the machine was busy with other work while this timed
    predictions: list[int] | None = None  # top-1 class per subset image (flips against another run)


@dataclass
class Prepared:
    """A run's model, data and transformed artifact, ready to evaluate (or export)."""

    recipe: Recipe
    model: LoadedModel
    images: np.ndarray
    labels: np.ndarray | None
    reference: np.ndarray        # FP32 logits on the same images
    artifact: Any
    notes: list[str]
    ctx: BuildContext            # what the steps used; export reuses it for a final onnx_export
    inputs: dict[str, Any] = field(default_factory=dict)  # what the inputs were (a text subset's token lengths)

    def predictor(self, artifact: Any = None, runtime: RuntimeSettings | None = None,
                  cache: Any = None) -> Predictor:
        """A predictor of the run's artifact (or `artifact`) that feeds each call as the model's input spec says."""
        return make_predictor(self.artifact if artifact is None else artifact, runtime or self.recipe.runtime,
                              cache=cache, shape=self.model.input_spec.fit)


def prepare_run(run: RunRecord, settings: Settings, progress: Progress = no_progress, *,
                work_dir: Path) -> Prepared:
    """Build the model, draw the subset, compute the FP32 reference and apply the recipe's steps; the steps write
    their intermediate files in `work_dir` (the caller's job folder, `core.workdirs.job_folder`)."""
    run = localized(run, settings)  # an ONNX file submitted elsewhere: its bytes come from the store
    recipe = recipe_from_json(run.recipe, {k: v for k, v in run.runtime.items() if k != "timing"},
                              run.runtime.get("timing"))
    notes: list[str] = []
    seed_everything(run.subset_seed)  # a step that draws at random (an initialisation, a sampler) draws the same
    progress("build", 0.0)
    model = build_model(ModelRequest(run.model, run.model_options), settings, progress)
    notes += model.notes
    progress("build", 1.0)
    dataset = load_dataset(run.dataset_spec, settings, model.input_spec)
    notes += dataset.notes
    note = check_compatible(run.model, model.label_space, model.num_classes, model.trained, dataset)
    if note:
        notes.append(note)
    subset = evaluation_subset(dataset, run.subset_size, run.subset_seed)
    images = load_images(subset, model, progress, "data")
    labels = subset.labels if dataset.has_labels and model.trained else None
    if not model.trained:
        notes.append("accuracy not applicable: random weights")

    batch = recipe.runtime.batch
    reference = predict_all(make_predictor(model.artifact, recipe.runtime, shape=model.input_spec.fit), images, batch,
                            progress, "reference")
    artifact = copy.deepcopy(model.artifact) if recipe.steps else model.artifact
    work_dir.mkdir(parents=True, exist_ok=True)
    ctx = BuildContext(input_spec=model.input_spec, example=images[:8], batch=batch,
                       calibration=lambda size: calibration_images(dataset, subset, size, model),
                       validation=lambda calibration, size: validation_images(dataset, subset, calibration, size,
                                                                              model),
                       progress=progress, device=recipe.runtime.device,
                       train=None if dataset.train is None else lambda limit: train_images(dataset, model, limit),
                       reference=model.artifact.module if model.artifact.kind == "torch" else None,
                       settings=settings, model_name=model_spec(run), work_dir=work_dir)
    artifact = apply_steps(artifact, recipe.steps, ctx)
    notes += ctx.notes
    return Prepared(recipe, model, images, labels, reference, artifact, notes, ctx,
                    model.input_spec.describe(subset.split, subset.indices, batch))


def seed_everything(seed: int) -> None:
    """Seed the global generators (Python, NumPy, torch) a library may draw from, so a rebuild is the same build."""
    import random

    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def apply_steps(artifact: Any, steps: Sequence[Step], ctx: BuildContext) -> Any:
    """Apply recipe steps in order, each reporting its own progress stage."""
    for step in steps:
        ctx.progress(step.technique, 0.0)
        artifact = TECHNIQUES.get(step.technique).apply(artifact, step.config, ctx)
        ctx.progress(step.technique, 1.0)
    return artifact


def measure_run(run: RunRecord, settings: Settings, progress: Progress = no_progress) -> Measurement:
    """Everything between a stored run request and its metrics; raises on failure.

    Holds the machine lock throughout (building, training, calibrating, scoring and timing are all
    heavy), so no other InferScope process measures beside it.
    """
    with machine_lock(f"run {run.id}", progress), job_folder(settings, f"run-{run.id}") as folder:
        if generates(run.model_source):
            return _measure_generation(run, settings, progress, folder)
        return _measure_run(run, settings, progress, folder)


@dataclass
class PreparedGeneration:
    """A language model's run ready to measure (or export): the FP32 model, the recipe's artifact and the texts."""

    recipe: Recipe
    model: LoadedModel
    artifact: Any
    texts: list[str]
    notes: list[str]
    ctx: BuildContext

    def decoder(self) -> Any:
        """The recipe's artifact as its runtime generates with it, with the run's device and threads."""
        runtime = self.recipe.runtime
        return RUNTIMES.get(self.artifact.kind).decoder(self.artifact, runtime, runtime.threads or default_threads())

    def prompt_batches(self) -> list[np.ndarray]:
        """The run's prompts (the first tokens of its held-out texts) in batches of its batch size, as it timed them."""
        from core.generation import corpus
        from core.generation.timing import prompt_batches

        options = self.model.options
        prompts = corpus.prompts(self.model.input_spec.tokenizer, self.texts, options["prompt_length"],
                                 options["prompts"])
        return prompt_batches(prompts, self.recipe.runtime.batch)


def prepare_generation(run: RunRecord, settings: Settings, progress: Progress = no_progress, *,
                       work_dir: Path) -> PreparedGeneration:
    """Build the language model, draw the subset's held-out texts and apply the recipe's steps."""
    recipe = recipe_from_json(run.recipe, {k: v for k, v in run.runtime.items() if k != "timing"},
                              run.runtime.get("timing"))
    seed_everything(run.subset_seed)
    progress("build", 0.0)
    model = build_model(ModelRequest(run.model, run.model_options), settings, progress)
    progress("build", 1.0)
    dataset = load_dataset(run.dataset_spec, settings, None)
    subset = evaluation_subset(dataset, run.subset_size, run.subset_seed)
    runtime = recipe.runtime
    work_dir.mkdir(parents=True, exist_ok=True)
    ctx = BuildContext(input_spec=model.input_spec, example=np.zeros((0, 0), dtype=np.int64), batch=runtime.batch,
                       calibration=lambda size: np.zeros((0, 0), dtype=np.int64), progress=progress,
                       device=runtime.device, settings=settings, model_name=model_spec(run), work_dir=work_dir)
    artifact = apply_steps(model.artifact, recipe.steps, ctx)
    return PreparedGeneration(recipe, model, artifact, subset.split.texts(subset.indices),
                              model.notes + dataset.notes + ctx.notes, ctx)


def _measure_generation(run: RunRecord, settings: Settings, progress: Progress, folder: Path) -> Measurement:
    """A language model's run: FP32 (eager, with its KV cache) is the reference; the recipe's artifact is scored on
    the subset's held-out texts, generates after their first tokens, and is timed token by token
    (`core.generation.evaluate`)."""
    from core.generation import continuations
    from core.generation.bound import bandwidth, decode_bound
    from core.generation.evaluate import GenerationSettings, evaluate
    from core.generation.timing import Streams

    prepared = prepare_generation(run, settings, progress, work_dir=folder)
    recipe, model, artifact, texts, ctx = (prepared.recipe, prepared.model, prepared.artifact, prepared.texts,
                                           prepared.ctx)
    runtime, threads = recipe.runtime, recipe.runtime.threads or default_threads()
    reference = RUNTIMES.get(model.artifact.kind).decoder(model.artifact, runtime, threads)
    decoder = prepared.decoder()
    generation = GenerationSettings(**{k: model.options[k] for k in to_dict(GenerationSettings())})
    tokenizer = model.input_spec.tokenizer
    load = scenario_config(run.scenario, run.scenario_config)
    streams = Streams(load.clients, load.sessions, load.requests) if hasattr(load, "clients") else None
    result = evaluate(decoder, reference, tokenizer, texts, generation, recipe.timing, progress,
                      windows=len(texts), batch=runtime.batch, streams=streams, fresh=prepared.decoder)
    engine = RUNTIMES.get(artifact.kind).engine
    environment = env_mod.environment(runtime.device, engine, runtime.device, {"threads": threads,
                                                                              "decoder": decoder.engine})
    environment["model"] = {k: v for k, v in model.options.items() if k not in run.model_options}
    environment["continuations"] = [
        {**asdict(continuations.continuation(tokenizer, prompt, tokens, expected)),
         "prompt_ids": prompt.tolist(), "token_ids": tokens.tolist(), "reference_ids": expected.tolist(),
         "reference_text": tokenizer.decode(expected.tolist())}
        for prompt, tokens, expected in zip(result.prompts, result.continuations, result.reference, strict=True)]
    environment["load"] = {**result.load, "config": to_dict(load), "prompts_per_request": runtime.batch}
    if ctx.findings:
        environment["steps"] = ctx.findings
    # Still holding the machine: this machine's read bandwidth is measured here the first time it is seen.
    machine_gbs = bandwidth(settings.models_dir / "machine", env_mod.fingerprint(environment))
    step_ms = result.metrics.get("itl_p50_ms")
    if step_ms and streams is None:  # one stream's step: concurrent streams share the weights they read
        bound = decode_bound(artifact.size_bytes(), step_ms, machine_gbs)
        environment["decode_bound"] = {**asdict(bound), "share_pct": bound.share_pct,
                                       "memory_bound": bound.memory_bound, "words": bound.words()}
    metrics = {**result.metrics, "size_mb": artifact.size_bytes() / 1e6}
    noisy = noise_note(result.contention, settings.noisy_cpu_pct)
    notes = prepared.notes + result.notes + ([noisy] if noisy else [])
    return Measurement(metrics, list(result.samples_ms), notes, environment, engine, noisy is not None)


def _measure_run(run: RunRecord, settings: Settings, progress: Progress, folder: Path) -> Measurement:
    prepared = prepare_run(run, settings, progress, work_dir=folder)
    recipe, batch = prepared.recipe, prepared.recipe.runtime.batch
    predictor = prepared.predictor()
    first: dict[str, float] = {}
    with PeakMemory() as peak:
        logits = predict_all(predictor, prepared.images, batch, progress, "evaluate", first_call=first)
    config = scenario_config(run.scenario, run.scenario_config)
    with ContentionMeter() as meter:
        result = run_scenario(prepared, predictor, run.scenario, config, progress, first_ms=first["ms"],
                              seed=run.subset_seed)
    latency = latency_metrics(result, batch)
    metrics = {**latency, **meter.result.metrics(),
               **_quality_metrics(logits, prepared.reference, prepared.labels),
               **input_metrics(prepared.inputs, latency["throughput_ips"]),
               "size_mb": prepared.artifact.size_bytes() / 1e6, "peak_mem_mb": peak.mb}
    environment = env_mod.environment(recipe.runtime.device, predictor.engine, predictor.provider,
                                      predictor.settings)
    environment["model"] = {k: v for k, v in prepared.model.options.items() if k not in run.model_options}
    environment["load"] = result.load
    if prepared.inputs:
        environment["inputs"] = prepared.inputs
    if prepared.ctx.findings:
        environment["steps"] = prepared.ctx.findings
    # Still holding the machine: the peaks are measured here the first time this environment is seen.
    environment["peaks_gops"] = roofline.peaks(settings.models_dir / "machine", env_mod.fingerprint(environment))
    environment["model_gflops"] = model_gflops(run, settings)
    noisy = noise_note(meter.result, settings.noisy_cpu_pct)
    notes = (prepared.notes + list(predictor.notes) + _load_notes(result) + tail_notes(len(result.samples_ms))
             + ([noisy] if noisy else []))
    return Measurement(metrics, result.samples_ms, notes, environment, predictor.engine, noisy is not None,
                       predicted(logits).astype(int).tolist())


def run_scenario(prepared: Prepared, predictor: Predictor, name: str, config: Any, progress: Progress = no_progress,
                 *, first_ms: float | None = None, seed: int = 0) -> ScenarioResult:
    """Apply one scenario's load to `predictor`, drawing requests from the run's subset.

    The query stream is seeded; it repeats inputs only when the recipe has a response cache (its
    repeat ratio), and the cache starts empty, as a fresh server's would.
    """
    runtime = prepared.recipe.runtime
    cache = prepared.artifact.response_cache or {}
    shared = predictor.cache if isinstance(predictor, CachedPredictor) else None
    if shared is not None:
        shared.clear()  # the accuracy pass filled it with every subset image
    pool = request_pool(prepared.images, runtime.batch)
    stream = QueryStream(len(pool), cache.get("repeat_ratio", 0.0), cache.get("zipf_exponent", 1.2), seed)
    ctx = LoadContext(predictor, lambda: prepared.predictor(cache=shared), pool, stream,
                      prepared.recipe.timing, runtime.batch, progress, first_ms)
    result = SCENARIOS.get(name).run(ctx, config)
    result.load.update(scenario=name, config=to_dict(config), images_per_request=runtime.batch, engine=predictor.engine,
                       intra_op_threads=predictor.settings.get("threads"),
                       inter_op_threads=predictor.settings.get("inter_op_threads"),
                       query_stream={"distinct_requests": len(pool), "seed": seed,
                                     "repeat_ratio": stream.repeat_ratio, "zipf_exponent": stream.zipf_exponent})
    return result


def latency_metrics(result: ScenarioResult, batch: int) -> dict[str, Any]:
    """Latency distribution, rates and cache statistics of a scenario's requests."""
    if not result.samples_ms:
        raise InferScopeError("no request completed within the timing bounds; raise the max seconds of the "
                              "timing protocol or lower the server rate")
    stats = LatencyStats(result.first_ms, tuple(result.samples_ms), result.wall_seconds, batch)
    metrics: dict[str, Any] = {
        **latency_figures(stats),
        "achieved_rate_rps": stats.count / stats.wall_seconds if stats.wall_seconds > 0 else None,
    }
    metrics.update(result.metrics)
    if result.hits is not None:
        samples = np.asarray(result.samples_ms)
        hits = np.asarray(result.hits, dtype=bool)
        metrics["cache_hit_pct"] = 100.0 * hits.mean()
        metrics["cache_hit_p50_ms"] = float(np.percentile(samples[hits], 50)) if hits.any() else None
        metrics["cache_miss_p50_ms"] = float(np.percentile(samples[~hits], 50)) if (~hits).any() else None
    return metrics


def input_metrics(inputs: dict[str, Any], texts_per_s: float | None) -> dict[str, Any]:
    """A text run's tokens: real tokens per second (the texts answered per second times the mean tokens each is
    run with; the query stream cycles the whole subset), tokens per text and the padding's share. Nothing for
    images (their spec describes nothing)."""
    if "tokens_mean_run" not in inputs:
        return {}
    return {"tokens_per_s": None if texts_per_s is None else texts_per_s * inputs["tokens_mean_run"],
            "tokens_mean": inputs["tokens_mean_run"],
            "padding_pct": inputs["padding_pct"]}


def _load_notes(result: ScenarioResult) -> list[str]:
    notes = []
    load = result.load
    if load.get("requests_dropped"):
        notes.append(f"{load['requests_dropped']} request(s) were still queued when the timing protocol's max seconds "
                     "ran out: they are left out of the percentiles and counted as over the latency bound")
    elif load.get("stopped_by_time"):
        notes.append(f"the timing protocol's max seconds ended the load after {load['requests_sent']} request(s)")
    if load.get("sessions", 1) > 1 and load["engine"].startswith("torch"):
        notes.append("torch runs one module from many threads: the sessions share its weights")
    return notes


def model_spec(run: RunRecord) -> str:
    """The model as a CLI spec: name[:key=value,...]."""
    return format_spec(run.model, run.model_options)


def train_images(dataset: LoadedDataset, model: LoadedModel, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Preprocessed train images and labels (a seeded sample of `limit`), for recovery and distillation."""
    from core.models.training import split_tensors

    x, y = split_tensors(dataset.train, model.input_spec, limit, seed=0)
    return x.numpy(), y.numpy()


def calibration_images(dataset: LoadedDataset, subset: Subset, size: int, model: LoadedModel) -> np.ndarray:
    calib = calibration_subset(dataset, subset, size, subset.seed)
    return load_images(calib, model, no_progress, "calibration data")  # quick; its bar would split the step's


def validation_images(dataset: LoadedDataset, subset: Subset, calibration_size: int, size: int,
                      model: LoadedModel) -> tuple[np.ndarray, np.ndarray | None]:
    """Preprocessed validation images and labels, disjoint from the calibration images and the subset."""
    chosen = validation_subset(dataset, subset, calibration_size, size, subset.seed)
    labels = chosen.labels if dataset.has_labels and model.trained else None
    return load_images(chosen, model, no_progress, "validation data"), labels


def model_gflops(run: RunRecord, settings: Settings) -> float | None:
    """FLOPs per image of the run's model as registered (before any pruning), in GFLOP; None when unknown."""
    if run.model_source == "onnx" or run.model not in MODELS:
        return None
    return MODELS.get(run.model).describe(settings).get("gflops")


def _quality_metrics(logits: np.ndarray, reference: np.ndarray, labels: np.ndarray | None) -> dict[str, Any]:
    metrics: dict[str, Any] = {"eval_samples": len(logits)}
    fid = fidelity(logits, reference)
    metrics.update(agreement=fid.agreement.percent, agreement_ci_low=fid.agreement.ci_low,
                   agreement_ci_high=fid.agreement.ci_high, logit_cosine=fid.logit_cosine)
    if labels is not None:
        for k in (1, 5):
            acc = top_k(logits, labels, k)
            metrics.update({f"top{k}": acc.percent, f"top{k}_ci_low": acc.ci_low, f"top{k}_ci_high": acc.ci_high})
    return metrics


def execute(store: RunStore, run_id: int, settings: Settings, progress: Progress = no_progress) -> RunRecord:
    """Run a queued (or already claimed) run to its end state and return it.

    Ends as every job does (`core.lifecycle`): a cancel or Ctrl-C stores `cancelled` and re-raises.
    """
    if store.get(run_id).status == "queued":
        store.start("run", run_id)
    run = store.get(run_id)

    def finish(result: Measurement) -> None:
        try:
            measured = replace(run, metrics=result.metrics, environment=result.environment, noisy=result.noisy)
            key = comparable.comparison_key(run)
            peers = [r for r in store.list_runs("done") if comparable.comparison_key(r) == key]
            baseline = comparable.baselines(peers).get(key)
            advice = [f.to_dict() for f in doctor.advise(measured, baseline, peers)]
            store.finish(run_id, metrics=result.metrics, samples_ms=result.samples_ms, notes=result.notes,
                         environment=result.environment, fingerprint=env_mod.fingerprint(result.environment),
                         engine=result.engine, extra={"noisy": result.noisy, "advice": advice},
                         predictions=result.predictions)
        except StoreUnavailable as exc:  # the store stayed away longer than we wait: keep the measurement
            raise StoreUnavailable(f"{exc}; the measurement of run {run_id} was kept in "
                                   f"{keep_measurement(settings, run_id, result)}") from None

    return run_job(store, "run", run_id, lambda report: measure_run(run, settings, report), finish, progress,
                   error_words=lambda status, error: failed_where(run, status, error))


KEPT_FOLDER = "kept"


def keep_measurement(settings: Settings, run_id: int, result: Measurement) -> Path:
    """Write a measurement the store could not take to `<data dir>/kept/run-<id>.json`; returns the path."""
    folder = settings.home / KEPT_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"run-{run_id}.json"
    path.write_text(json.dumps({"run_id": run_id, **asdict(result)}, default=str))
    return path


def failed_where(run: RunRecord, status: str, error: str | None) -> str | None:
    """A target's failure names the machine it happened on: what is missing must be installed there."""
    if run.target is None or status != "failed":
        return error
    return f"on target {run.target} (host {socket.gethostname()}): {error}"
