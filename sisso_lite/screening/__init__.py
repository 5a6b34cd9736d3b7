"""Screening workflows built on :mod:`sisso_lite.learning`: magnetic and stability screening,
subgroup-guided discovery (the top layer below the command line).

* stability: ``stability*.py`` (routes to E_hull, hull, formability, campaign, property map);
* magnetic: ``magnetic_labels.py`` (mcif -> FM/AFM/FiM, geometry), ``magnetic_features.py``,
  ``magnetic.py`` (P(FM) -> T +- sigma -> frustration), ``magnetic_campaign.py``
  (P(FM)·EI(T_C));
* subgroup-guided discovery: ``subgroup_guided.py`` and its private helpers.

Names are imported on first use (the hull needs pymatgen, which is slow to import).
"""

from __future__ import annotations

import importlib

_LAZY = {
    # stability screening (issue #13)
    "StabilityScreen": "sisso_lite.screening.stability",
    "compare_routes": "sisso_lite.screening.stability",
    "CompetingPhasesHull": "sisso_lite.screening.stability_hull",
    "TabulatedHull": "sisso_lite.screening.stability_hull",
    "HullError": "sisso_lite.screening.stability_hull",
    "e_hull_from_formation": "sisso_lite.screening.stability_hull",
    "hull_energies_from_table": "sisso_lite.screening.stability_hull",
    "ABO3Features": "sisso_lite.screening.stability_features",
    "FeaturizationError": "sisso_lite.screening.stability_features",
    "formability_comparison": "sisso_lite.screening.stability_formability",
    "STABLE_THRESHOLD": "sisso_lite.screening.stability_campaign",
    "emery_stability_pool": "sisso_lite.screening.stability_campaign",
    "find_stable_campaign": "sisso_lite.screening.stability_campaign",
    "run_stability_benchmark": "sisso_lite.screening.stability_campaign",
    "property_map": "sisso_lite.screening.stability_map",
    "evaluate_map": "sisso_lite.screening.stability_map",
    "load_foppa_candidates": "sisso_lite.screening.stability_map",
    # magnetic screening (issue #13)
    "MagneticScreen": "sisso_lite.screening.magnetic",
    "compare_with_frey": "sisso_lite.screening.magnetic",
    "frustration": "sisso_lite.screening.magnetic",
    "plot_screen": "sisso_lite.screening.magnetic",
    "RAMIREZ_THRESHOLD": "sisso_lite.screening.magnetic",
    "J_RATIO_THRESHOLD": "sisso_lite.screening.magnetic",
    "MagneticFeatures": "sisso_lite.screening.magnetic_features",
    "read_mcif": "sisso_lite.screening.magnetic_labels",
    "order_from_moments": "sisso_lite.screening.magnetic_labels",
    "magnetic_geometry": "sisso_lite.screening.magnetic_labels",
    "magndata_table": "sisso_lite.screening.magnetic_labels",
    "MCIFError": "sisso_lite.screening.magnetic_labels",
    "FerromagnetCampaign": "sisso_lite.screening.magnetic_campaign",
    "magndata_ferromagnet_pool": "sisso_lite.screening.magnetic_campaign",
    "run_ferromagnet_benchmark": "sisso_lite.screening.magnetic_campaign",
    "ferromagnet_strategies": "sisso_lite.screening.magnetic_campaign",
    # subgroup-guided discovery (issue #13)
    "SubgroupGuidedCampaign": "sisso_lite.screening.subgroup_guided",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sisso_lite.screening' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
