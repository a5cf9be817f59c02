"""Budgeted automatic exploration: a search space, a search loop and what its runs say."""
from core.explore.analysis import (
    Constraints,
    Pick,
    Recommendations,
    front,
    hypervolume_history,
    recommend,
)
from core.explore.search import execute_exploration
from core.explore.settings import STRATEGIES, ExploreSettings, parse_settings
from core.explore.space import (
    Configuration,
    SearchSpace,
    default_space,
    load_space,
    parse_space,
    runnable,
    space_from_text,
)
from core.explore.trials import Trial

__all__ = ["Constraints", "Pick", "Recommendations", "front", "hypervolume_history", "recommend", "STRATEGIES",
           "ExploreSettings", "Trial", "execute_exploration", "parse_settings", "Configuration", "SearchSpace",
           "default_space", "load_space", "parse_space", "runnable", "space_from_text"]
