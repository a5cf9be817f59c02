"""Tasks: what a model does with its inputs. A task is one registry entry; models and datasets name theirs, and
everything that differs between tasks (what one input is called, how inputs are prepared, which datasets fit)
is asked of the entry, never decided by comparing a task's name."""
from __future__ import annotations

from dataclasses import dataclass, field

from core.registry import Registry


@dataclass(frozen=True)
class Task:
    """One task, as the rest of InferScope asks about it."""

    name: str            # "image-classification", as runs, flags and pages name it
    words: str           # "image classification", as sentences name it
    input_kind: str      # "image" or "text": what a dataset of this task holds and a model of it reads
    item: str            # what one input is called in messages: "image", "text"
    default_model: str   # the offline default a new user starts from
    default_dataset: str
    default_subset: int = 1000  # the Run page's subset size: what the default dataset's evaluation split holds
    retrains: bool = True  # techniques that train again (recovery, distillation) have a loop for its inputs
    latency_only: str | None = None  # a dataset of made-up inputs for timing a model whose labels fit no dataset
    # the model options an exploration varies by default, with their values (core.explore.space)
    explore_model: tuple[tuple[str, tuple], ...] = ()
    # techniques a model of this task cannot take yet, and why, in the words the planner refuses them with
    refused: dict[str, str] = field(default_factory=dict)
    subset_help: str = "seeded, stratified sample of the evaluation split (at least 1)"  # what a subset is
    front: tuple[str, str] = ("latency_p50_ms", "top1")  # the front's default axes (catalogue metrics): speed, quality
    scenarios: tuple[str, ...] | None = None  # the load scenarios its runs can be measured under (None: every one)
    # the analyses of its runs there are (ANALYSIS_WORDS' names; None: every one)
    analyses: tuple[str, ...] | None = None

    def refusal(self, technique: str) -> str | None:
        """Why a technique cannot apply to this task's models (None: it can)."""
        return self.refused.get(technique)

    def check_task_scenario(self, scenario: str) -> None:
        """Refuse a load scenario this task's runs cannot be measured under yet."""
        from core.errors import RecipeError

        if self.scenarios is not None and scenario not in self.scenarios:
            raise RecipeError(f"{self.words} is measured {' or '.join(self.scenarios)} so far; scenario {scenario} is "
                              "not available for its models")

    def check_analysis(self, analysis: str) -> None:
        """Refuse an analysis (ANALYSIS_WORDS) this task's runs have no form of yet."""
        from core.errors import RecipeError

        if not self.offers(analysis):
            raise RecipeError(f"{ANALYSIS_WORDS[analysis]} is not available for {self.words} runs yet: compare them on "
                              "the Compare page (or python -m core report) and export them")

    def offers(self, analysis: str) -> bool:
        """Whether this task's runs have a form of `analysis` (ANALYSIS_WORDS)."""
        return self.analyses is None or analysis in self.analyses

    def items(self, count: int) -> str:
        """'1 image', '445 texts'."""
        return f"{count:,} {self.item}{'' if count == 1 else 's'}"


# The analyses of a run beyond its measurement, in the words a refusal names them with.
ANALYSIS_WORDS = {"exploration": "an exploration", "curve": "a latency-throughput curve",
                  "remeasure": "a paired re-measurement", "sensitivity": "a sensitivity diagnosis",
                  "profile": "an operator profile", "flips": "flips (where top-1 answers changed)"}
TASKS: Registry[Task] = Registry("task")
for _task in (
    Task("image-classification", "image classification", "image", "image", "resnet8", "fashion-mnist",
         latency_only="synthetic",
         refused={"transformer_optimize": "it fuses a transformer's attention and layer norms, which an image "
                                          "classifier here does not have",
                  "transformer_prune": "it removes a transformer's attention heads and FFN neurons; an image "
                                       "model's channels are pruned with structured_prune",
                  "distill_layers": "it keeps the first layers of a transformer encoder; an image model distils into "
                                    "a smaller architecture with distill"}),
    Task("text-classification", "text classification", "text", "text", "minilm-bbc", "bbc-news", default_subset=400,
         explore_model=(("max_length", (128, 256)), ("padding", ("fixed", "dynamic"))),
         refused={"structured_prune": "torch-pruning cannot follow a transformer's attention heads here; "
                                      "transformer_prune removes whole heads and FFN neurons instead",
                  "distill": "its students are small image CNNs; distill_layers makes a transformer student from the "
                             "first layers of this one"}),
    # A language model's own techniques take its artifacts (core/generation/techniques.py): the classifiers' do not.
    Task("text-generation", "text generation", "text", "text", "gpt2-bbc", "bbc-news-articles", default_subset=100,
         retrains=False, front=("itl_p50_ms", "perplexity"), scenarios=("single-stream", "concurrent"),
         analyses=("exploration", "remeasure", "profile"),
         subset_help="held-out texts scored for perplexity (a seeded sample); the prompts are the first tokens of "
                     "the first of them"),
):
    TASKS.register(_task.name, _task)

DEFAULT_TASK = "image-classification"
