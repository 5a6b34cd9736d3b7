"""Subgroup discovery: Boolean rules for regions where the target is exceptional.

See ``docs/subgroup_discovery.md``.
"""

from .estimator import SubgroupDiscovery
from .plotting import plot_subgroups
from .quality import (
    QUALITY_FUNCTIONS,
    CumulativeJSDivergence,
    CustomQuality,
    DispersionCorrected,
    ErrorReduction,
    MeanShift,
    MedianShift,
    NormalizedMeanShift,
    QualityFunction,
    WRAcc,
    get_quality,
)
from .rules import Rule
from .search import Problem, Result, beam_search, best_first_search, search_exact
from .selectors import Selector, equal_frequency_cutpoints, kmeans_cutpoints, make_selectors

__all__ = [
    "QUALITY_FUNCTIONS",
    "CumulativeJSDivergence",
    "CustomQuality",
    "DispersionCorrected",
    "ErrorReduction",
    "MeanShift",
    "MedianShift",
    "NormalizedMeanShift",
    "Problem",
    "QualityFunction",
    "Result",
    "Rule",
    "Selector",
    "SubgroupDiscovery",
    "WRAcc",
    "beam_search",
    "best_first_search",
    "equal_frequency_cutpoints",
    "get_quality",
    "kmeans_cutpoints",
    "make_selectors",
    "plot_subgroups",
    "search_exact",
]
