"""Conjunctive rules (subgroup descriptions): evaluation, text forms, JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .selectors import Selector

__all__ = ["Rule"]


@dataclass(frozen=True)
class Rule:
    """Conjunction of selectors.

    Parameters
    ----------
    selectors : tuple of Selector
        Conditions, all of which must hold (empty: every row).
    """

    selectors: tuple[Selector, ...]

    def covers(self, X: pd.DataFrame) -> np.ndarray:
        """Boolean membership of the rows of ``X``; missing values never satisfy."""
        out = np.ones(len(X), dtype=bool)
        for s in self.selectors:
            out &= s.covers(X)
        return out

    def __str__(self) -> str:
        return " AND ".join(str(s) for s in self.selectors) if self.selectors else "TRUE"

    def query(self) -> str:
        """pandas ``DataFrame.query`` string with exact thresholds."""
        if not self.selectors:
            return "index == index"
        return " and ".join(f"({s.query()})" for s in self.selectors)

    @property
    def features(self) -> tuple[str, ...]:
        """Features used by the rule."""
        return tuple(s.feature for s in self.selectors)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON representation."""
        return {"selectors": [s.to_dict() for s in self.selectors]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Rule:
        """Inverse of :meth:`to_dict`."""
        return cls(tuple(Selector.from_dict(s) for s in d["selectors"]))
