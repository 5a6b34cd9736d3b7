"""Old import paths of names that moved up a layer, resolved on first use.

A module whose public names moved to a higher layer keeps them importable with::

    _MOVED = {"load_model": "sisso_lite.estimators.persistence"}   # name -> new module
    __getattr__ = forward_moved(__name__, _MOVED)

The new module is imported only when an old name is asked for, so the lower layer does not
import the higher one (``tests/test_layers.py`` checks that every ``_MOVED`` entry resolves
and that the package itself never uses an old path).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

__all__ = ["forward_moved"]


def forward_moved(module: str, moved: Mapping[str, str]) -> Callable[[str], object]:
    """Module ``__getattr__`` that returns ``moved[name]``'s attribute ``name``."""

    def __getattr__(name: str) -> object:
        if name in moved:
            return getattr(importlib.import_module(moved[name]), name)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
