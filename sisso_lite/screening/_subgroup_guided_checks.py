"""Checks of the numeric options of the subgroup-guided campaign (errors name the option)."""

from __future__ import annotations

import math
import numbers

__all__ = ["beta_prior", "finite_or_none", "unit_interval"]


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def unit_interval(name: str, value, closed: bool) -> float:
    """``value`` as a float in [0, 1] (``closed``) or (0, 1); else ValueError naming it."""
    value_f = float(value) if _is_number(value) else float("nan")
    inside = 0.0 <= value_f <= 1.0 if closed else 0.0 < value_f < 1.0
    if not inside:
        bounds = "[0, 1]" if closed else "(0, 1)"
        raise ValueError(f"{name} must be a number in {bounds}, got {value!r}")
    return value_f


def finite_or_none(name: str, value) -> float | None:
    """``value`` as a finite float, or None; else ValueError naming it."""
    if value is None:
        return None
    if not (_is_number(value) and math.isfinite(float(value))):
        raise ValueError(f"{name} must be a finite number or None, got {value!r}")
    return float(value)


def beta_prior(prior) -> tuple[float, float]:
    """``(alpha, beta)`` of a Beta prior: two positive finite numbers."""
    try:
        ok = len(prior) == 2 and all(_is_number(p) and 0 < float(p) < math.inf for p in prior)
    except TypeError:
        ok = False
    if not ok:
        raise ValueError(f"prior must be two positive numbers (alpha, beta), got {prior!r}")
    return float(prior[0]), float(prior[1])
