"""sisso-lite: interpretable descriptors and SISSO symbolic regression for materials.

The estimators are importable from the top level (loaded on first use, so that
``import sisso_lite`` stays cheap)::

    from sisso_lite import SissoRegressor, SissoClassifier, SissoEnsemble, SubgroupDiscovery
"""

from __future__ import annotations

import importlib

from sisso_lite import _numba_setup

_numba_setup.install()  # NUMBA_CACHE_DIR and the first-compile notice, before numba loads

__version__ = "0.1.0"

_LAZY = {
    "SissoRegressor": "sisso_lite.estimators",
    "SissoClassifier": "sisso_lite.estimators",
    "SissoEnsemble": "sisso_lite.estimators",
    "SissoCV": "sisso_lite.estimators",
    "SissoEnsembleClassifier": "sisso_lite.estimators",
    "SubgroupDiscovery": "sisso_lite.subgroups",
    "FeatureSpace": "sisso_lite.features",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sisso_lite' has no attribute {name!r}")
