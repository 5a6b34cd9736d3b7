"""Sequential learning: campaigns that choose which candidates to measure next.

``Campaign`` runs the loop (surrogate -> acquisition -> oracle -> checkpoint);
``acquisition`` holds the acquisition functions, ``metrics`` the benchmark metrics of
Rohr et al. (2020), ``surrogates`` the SISSO / GP / random-forest presets.
"""

from sisso_lite.learning.acquisition import ACQUISITIONS, Prediction, get_acquisition
from sisso_lite.learning.campaign import Campaign
from sisso_lite.learning.checkpoint import CheckpointError
from sisso_lite.learning.surrogates import RandomForestSpread, make_surrogate

__all__ = [
    "ACQUISITIONS",
    "Campaign",
    "CheckpointError",
    "Prediction",
    "RandomForestSpread",
    "get_acquisition",
    "make_surrogate",
]
