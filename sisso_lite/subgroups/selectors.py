"""Selectors (atomic Boolean conditions) and their construction from tabular data.

A *selector* is a condition on one feature: ``x <= c``, ``x >= c``, ``lo <= x < hi``
(interval) or ``x == v`` (categorical / boolean). A missing value (NaN / None) never
satisfies a selector. Numeric cut points come from equal-frequency binning (the exact
rule of pysubgroup 0.9.0 ``equal_frequency_discretization``) or from 1-D k-means
clustering (as in realKD).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "Selector",
    "as_frame",
    "equal_frequency_cutpoints",
    "kmeans_cutpoints",
    "make_selectors",
    "selector_masks",
]

_OPS = ("<=", ">=", "<", "==", "interval")


def _fmt(value: Any, digits: int = 4) -> str:
    """Short display form of a threshold or category (exact values are in ``query()``)."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        return f"{float(value):.{digits}g}"
    return repr(str(value))


@dataclass(frozen=True)
class Selector:
    """One condition on one feature.

    Parameters
    ----------
    feature : str
        Column name.
    op : {"<=", ">=", "<", "==", "interval"}
        Comparison. ``"interval"`` means ``value[0] <= x < value[1]``.
    value : float, str, bool or tuple of two floats
        Threshold, category or interval bounds.
    """

    feature: str
    op: str
    value: Any

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"unknown selector operator {self.op!r}; expected one of {_OPS}")

    # ------------------------------------------------------------------ evaluation
    def covers(self, X: pd.DataFrame) -> np.ndarray:
        """Boolean membership of the rows of ``X`` (missing values give ``False``)."""
        if self.feature not in X.columns:
            raise ValueError(f"column {self.feature!r} used by rule is missing from the data")
        col = X[self.feature]
        if self.op == "==":
            out = (col == self.value).to_numpy(dtype=bool, na_value=False)
            return out & col.notna().to_numpy()
        x = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        return self.covers_values(x)

    def covers_values(self, x: np.ndarray) -> np.ndarray:
        """Membership for a float array of one numeric feature (NaN = missing)."""
        if self.op == "==":
            return (x == float(self.value)) & ~np.isnan(x)
        with np.errstate(invalid="ignore"):
            if self.op == "<=":
                out = x <= self.value
            elif self.op == ">=":
                out = x >= self.value
            elif self.op == "<":
                out = x < self.value
            else:
                lo, hi = self.value
                out = (x >= lo) & (x < hi)
        return out & ~np.isnan(x)

    # ------------------------------------------------------------------ text forms
    def __str__(self) -> str:
        if self.op == "interval":
            lo, hi = self.value
            if math.isinf(lo):
                return f"{self.feature} < {_fmt(hi)}"
            if math.isinf(hi):
                return f"{self.feature} >= {_fmt(lo)}"
            return f"{_fmt(lo)} <= {self.feature} < {_fmt(hi)}"
        return f"{self.feature} {self.op} {_fmt(self.value)}"

    def query(self) -> str:
        """pandas ``DataFrame.query`` string (exact values, back-quoted column name)."""
        name = f"`{self.feature}`"
        if self.op == "==":
            v = self.value
            lit = str(bool(v)) if isinstance(v, (bool, np.bool_)) else (
                repr(float(v)) if isinstance(v, (int, float, np.number)) else repr(str(v)))
            return f"{name} == {lit}"
        if self.op == "interval":
            lo, hi = (float(v) for v in self.value)
            parts = []
            if not math.isinf(lo):
                parts.append(f"{name} >= {lo!r}")
            if not math.isinf(hi):
                parts.append(f"{name} < {hi!r}")
            return " and ".join(parts) if parts else f"{name} == {name}"
        return f"{name} {self.op} {float(self.value)!r}"

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON representation."""
        v = self.value
        if self.op == "interval":
            v = [float(v[0]), float(v[1])]
        elif isinstance(v, (bool, np.bool_)):
            v = bool(v)
        elif isinstance(v, (int, float, np.number)):
            v = float(v)
        else:
            v = str(v)
        return {"feature": str(self.feature), "op": self.op, "value": v}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Selector:
        """Inverse of :meth:`to_dict`."""
        v = d["value"]
        if d["op"] == "interval":
            v = (float(v[0]), float(v[1]))
        return cls(str(d["feature"]), str(d["op"]), v)


# ---------------------------------------------------------------------- input handling
def as_frame(X: Any, feature_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Convert ``X`` (DataFrame, 2-D array or mapping) to a DataFrame with string columns."""
    if isinstance(X, pd.DataFrame):
        df = X.copy()
        if feature_names is not None:
            if len(feature_names) != df.shape[1]:
                raise ValueError("feature_names length does not match the number of columns")
            df.columns = list(feature_names)
    elif isinstance(X, dict):
        df = pd.DataFrame(X)
    else:
        arr = np.asarray(X)
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2:
            raise ValueError(f"X must be 2-D, got an array of shape {arr.shape}")
        names = (list(feature_names) if feature_names is not None
                 else [f"x{i}" for i in range(arr.shape[1])])
        if len(names) != arr.shape[1]:
            raise ValueError("feature_names length does not match the number of columns")
        df = pd.DataFrame(arr, columns=names)
    df.columns = [str(c) for c in df.columns]
    if df.columns.duplicated().any():
        raise ValueError("duplicate feature names: "
                         f"{sorted(set(df.columns[df.columns.duplicated()]))}")
    return df


# ---------------------------------------------------------------------- cut points
def equal_frequency_cutpoints(values: np.ndarray, n_cutpoints: int) -> list[float]:
    """Equal-frequency cut points, the rule of pysubgroup 0.9.0.

    With ``nbins = n_cutpoints + 1`` and the ``n`` non-missing values sorted, the i-th
    candidate (``i = 1 .. nbins-1``) is the value at position ``i*n // nbins``; if it
    repeats an earlier cut point, the position advances to the next new value.

    Parameters
    ----------
    values : ndarray
        Numeric values (NaN ignored).
    n_cutpoints : int
        Number of requested cut points (pysubgroup ``nbins - 1``).

    Returns
    -------
    list of float
        Distinct cut points (at most ``n_cutpoints``; increasing except in the degenerate
        case ``n < nbins``, exactly as pysubgroup).
    """
    v = np.asarray(values, dtype=float)
    return _equal_frequency_sorted(np.sort(v[~np.isnan(v)]), n_cutpoints)


def _equal_frequency_sorted(v: np.ndarray, n_cutpoints: int) -> list[float]:
    """:func:`equal_frequency_cutpoints` of sorted values without NaN."""
    n = v.size
    nbins = n_cutpoints + 1
    cuts: list[float] = []
    seen: set[float] = set()
    if n == 0:
        return cuts
    for i in range(1, nbins):
        pos = i * n // nbins
        val = None
        while pos < n:
            val = float(v[pos])
            if val not in seen:
                break
            pos += 1
        if val is not None and val not in seen:
            cuts.append(val)
            seen.add(val)
    return cuts


def kmeans_cutpoints(values: np.ndarray, n_cutpoints: int, n_iter: int = 100) -> list[float]:
    """Cut points between the clusters of a 1-D k-means with ``n_cutpoints + 1`` clusters.

    Lloyd's algorithm on the sorted values, initialised at equal-frequency quantiles
    (deterministic). A cut point is the midpoint between the largest value of one cluster
    and the smallest value of the next.
    """
    v = np.sort(np.asarray(values, dtype=float)[~np.isnan(np.asarray(values, dtype=float))])
    u = np.unique(v)
    k = min(n_cutpoints + 1, u.size)
    if k <= 1:
        return []
    centers = np.quantile(v, (np.arange(k) + 0.5) / k)
    centers = np.unique(centers)
    for _ in range(n_iter):
        bounds = (centers[1:] + centers[:-1]) / 2
        lab = np.searchsorted(bounds, v, side="right")
        new = np.array([v[lab == j].mean() for j in range(centers.size) if np.any(lab == j)])
        if new.size == centers.size and np.allclose(new, centers, rtol=0, atol=0):
            break
        centers = new
    bounds = (centers[1:] + centers[:-1]) / 2
    lab = np.searchsorted(bounds, v, side="right")
    cuts = []
    for j in range(centers.size - 1):
        lo, hi = v[lab == j], v[lab == j + 1]
        if lo.size and hi.size:
            cuts.append(float((lo.max() + hi.min()) / 2))
    return sorted(set(cuts))


def _plain_frame(X: Any, feature_names: Sequence[str] | None) -> bool:
    """Whether ``X`` is a DataFrame that :func:`as_frame` would only copy."""
    return (feature_names is None and isinstance(X, pd.DataFrame)
            and all(type(c) is str for c in X.columns) and not X.columns.duplicated().any())


def selector_masks(selectors: Sequence[Selector], X: pd.DataFrame) -> np.ndarray:
    """Membership of the rows of ``X`` in each selector, shape ``(len(selectors), n_rows)``.

    Equal to stacking ``s.covers_values(x)`` (numeric columns as float, NaN = missing) and
    ``s.covers(X)`` (``"=="``), with the threshold selectors of a column compared at once.
    """
    out = np.empty((len(selectors), len(X)), dtype=bool)
    cols: dict[str, np.ndarray] = {}
    groups: dict[tuple[str, str], list[int]] = {}
    for i, s in enumerate(selectors):
        if s.op == "==":
            out[i] = s.covers(X)
            continue
        if s.feature not in cols:
            cols[s.feature] = X[s.feature].to_numpy(dtype=float, na_value=np.nan)
        if s.op in ("<=", ">=", "<"):
            groups.setdefault((s.feature, s.op), []).append(i)
        else:
            out[i] = s.covers_values(cols[s.feature])
    ops = {"<=": np.less_equal, ">=": np.greater_equal, "<": np.less}
    for (name, op), rows in groups.items():
        x = cols[name]
        vals = np.array([float(selectors[i].value) for i in rows])
        with np.errstate(invalid="ignore"):
            out[rows] = ops[op](x[None, :], vals[:, None]) & ~np.isnan(x)[None, :]
    return out


def _is_numeric(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def make_selectors(
    X: Any,
    feature_names: Sequence[str] | None = None,
    n_cutpoints: int = 10,
    method: str = "quantile",
    intervals: bool = False,
    allow_constant: bool = False,
) -> list[Selector]:
    """Build the selector search space for a table.

    Parameters
    ----------
    X : DataFrame or array-like
        Features (numeric, boolean, categorical / object columns).
    feature_names : sequence of str, optional
        Column names when ``X`` is an array.
    n_cutpoints : int
        Cut points per numeric feature.
    method : {"quantile", "kmeans"}
        Equal-frequency (pysubgroup rule) or 1-D k-means cut points.
    intervals : bool
        Also add the intervals ``[c_i, c_{i+1})`` between consecutive cut points.
    allow_constant : bool
        If False (default) a constant or all-missing column raises ``ValueError``;
        if True such columns are skipped.

    Returns
    -------
    list of Selector
        Ordered by column, then ``<=`` selectors, ``>=`` selectors, intervals.
        Selectors covering no or all non-missing rows are dropped.
    """
    df = X if _plain_frame(X, feature_names) else as_frame(X, feature_names)
    if df.shape[0] == 0:
        raise ValueError("empty data: X has no rows")
    if df.shape[1] == 0:
        raise ValueError("empty data: X has no columns")
    if n_cutpoints < 1:
        raise ValueError(f"n_cutpoints must be >= 1, got {n_cutpoints}")
    if method not in ("quantile", "kmeans"):
        raise ValueError(f"unknown discretization method {method!r}")
    sels: list[Selector] = []
    for name in df.columns:
        col = df[name]
        numeric = _is_numeric(col)
        if numeric:  # one sort gives the distinct values and the cut points
            x = col.to_numpy(dtype=float, na_value=np.nan)
            present = ~np.isnan(x)
            xp = x[present]
            v = np.sort(xp)
            new_value = np.concatenate(([True], v[1:] != v[:-1])) if v.size else v.astype(bool)
            n_unique = int(np.count_nonzero(new_value))
        else:
            present = col.notna().to_numpy()
            n_unique = int(col[present].nunique()) if present.any() else 0
        if not present.any():
            if allow_constant:
                continue
            raise ValueError(f"feature {name!r} is all-missing")
        if n_unique < 2:
            if allow_constant:
                continue
            raise ValueError(f"feature {name!r} is constant")
        if numeric:
            lo_v, hi_v = v[0], v[-1]
            if n_unique <= n_cutpoints + 1:
                cuts = [float(c) for c in v[new_value]]
            elif method == "quantile":
                cuts = _equal_frequency_sorted(v, n_cutpoints)
            else:
                cuts = kmeans_cutpoints(xp, n_cutpoints)
            sels.extend(Selector(name, "<=", c) for c in cuts if c < hi_v)
            sels.extend(Selector(name, ">=", c) for c in cuts if c > lo_v)
            if intervals and len(cuts) > 1:
                inner = sorted(c for c in cuts if lo_v < c <= hi_v)
                edges = [-math.inf, *inner, math.inf]
                for a, b in zip(edges[:-1], edges[1:], strict=True):
                    if not (math.isinf(a) or math.isinf(b)):
                        sels.append(Selector(name, "interval", (a, b)))
        else:
            for v in pd.unique(col[present]):
                sels.append(Selector(name, "==", v.item() if hasattr(v, "item") else v))
    return sels
