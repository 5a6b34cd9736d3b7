"""Input validation shared by the estimators (errors name the offending column/unit/operator)."""

from __future__ import annotations

import numbers
import re
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sisso_lite._validation import check_finite

__all__ = [
    "check_feature_names",
    "check_hashable_labels",
    "check_integer",
    "check_tasks",
    "check_target",
    "check_units",
    "dataframe_to_array",
    "default_feature_names",
    "input_feature_names",
    "task_index_of",
]

#: characters that would make a formula ambiguous
_FORBIDDEN = re.compile(r"[+\-*/^()|,\s=<>!%&\[\]{}'\"`;:]")


def default_feature_names(n_features: int) -> list[str]:
    """Names ``x0, x1, ...`` for array input."""
    return [f"x{i}" for i in range(n_features)]


def check_feature_names(names: Sequence) -> list[str]:
    """Feature names as strings; reject duplicates and operator characters.

    Raises
    ------
    ValueError
        Naming the duplicated column or the column with an operator character.
    """
    out = [str(n) for n in names]
    seen: set[str] = set()
    for name in out:
        if name in seen:
            raise ValueError(f"duplicate feature name {name!r}: column names must be unique")
        seen.add(name)
        if not name:
            raise ValueError("empty feature name")
        bad = _FORBIDDEN.search(name)
        if bad:
            raise ValueError(
                f"feature name {name!r} contains the character {bad.group()!r}, which is an "
                "operator or separator in formulas; rename the column (e.g. use '_')"
            )
        if name[0].isdigit():
            raise ValueError(f"feature name {name!r} must not start with a digit")
    return out


def dataframe_to_array(X: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Float array and column names of a DataFrame; non-numeric/NaN/inf columns are named."""
    names = [str(c) for c in X.columns]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ValueError(f"duplicate feature name {dup!r}: column names must be unique")
    bad = [
        n for n, dt in zip(names, X.dtypes, strict=True)
        if not (pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_complex_dtype(dt))
        or pd.api.types.is_bool_dtype(dt)
    ]
    if bad:
        raise ValueError(f"non-numeric column(s) {bad}: SISSO needs numeric primary features")
    arr = X.to_numpy(dtype=np.float64)
    check_finite(arr, names, "X")
    return arr, names


def check_target(y: np.ndarray, n_samples: int, n_dim: int, fit_intercept: bool) -> np.ndarray:
    """Finite, non-constant 1-d float target with enough samples for ``n_dim`` terms."""
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"y must be 1-d, got shape {y.shape}")
    if y.shape[0] != n_samples:
        raise ValueError(f"X has {n_samples} samples but y has {y.shape[0]}")
    check_finite(y, None, "y")
    need = n_dim + 1 if fit_intercept else n_dim
    if n_samples < need:
        raise ValueError(
            f"n_samples = {n_samples} is too small for a model with n_dim={n_dim} terms"
            f"{' and an intercept' if fit_intercept else ''}: need at least {need} samples"
        )
    if np.ptp(y) == 0.0:
        raise ValueError("y is constant: there is nothing to fit")
    return y


def check_tasks(tasks, n_samples: int) -> np.ndarray | None:
    """Task label per sample (1-d, no missing values) or None."""
    if tasks is None:
        return None
    arr = np.asarray(tasks)
    if arr.ndim != 1 or arr.shape[0] != n_samples:
        raise ValueError(f"tasks must have shape ({n_samples},), got {arr.shape}")
    if pd.isna(arr).any():
        raise ValueError("tasks contains missing values")
    return arr


def check_units(units, names: Sequence[str], parse) -> list[str | None]:
    """One unit string (or None) per feature, each accepted by ``parse``.

    Parameters
    ----------
    units : None, dict name -> unit, or sequence aligned with ``names``
    names : feature names
    parse : callable raising on an unparsable unit (``sisso_lite.features.parse_unit``)
    """
    if units is None:
        return [None] * len(names)
    if isinstance(units, Mapping):
        unknown = [k for k in units if k not in set(names)]
        if unknown:
            raise ValueError(f"units given for unknown feature(s) {unknown}")
        out = [units.get(n) for n in names]
    else:
        out = list(units)
        if len(out) != len(names):
            raise ValueError(f"units has {len(out)} entries but X has {len(names)} features")
    clean: list[str | None] = []
    for name, unit in zip(names, out, strict=True):
        if unit is None or (isinstance(unit, float) and np.isnan(unit)):
            clean.append(None)
            continue
        try:
            parse(str(unit))
        except Exception as exc:  # noqa: BLE001 - re-raised with the column name
            raise ValueError(f"cannot parse unit {unit!r} of feature {name!r}: {exc}") from exc
        clean.append(str(unit))
    return clean


def check_integer(name: str, value, low: int) -> int:
    """``value`` as an int ``>= low`` (bool rejected); ValueError naming ``name`` otherwise."""
    if (not isinstance(value, numbers.Integral) or isinstance(value, bool)
            or value < low):
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def input_feature_names(X, feature_names: Sequence | None = None) -> list[str] | None:
    """Checked primary-feature names: ``feature_names`` if given, else the column names of
    a DataFrame whose columns are all strings, else None (use ``default_feature_names``).

    DataFrames are also checked for non-numeric, NaN and inf columns
    (:func:`dataframe_to_array`), so errors name the offending column.
    """
    if isinstance(X, pd.DataFrame):
        _, names = dataframe_to_array(X)
        if feature_names is None and all(isinstance(c, str) for c in X.columns):
            return check_feature_names(names)
    if feature_names is not None:
        return check_feature_names(feature_names)
    return None


def task_index_of(tasks, labels: np.ndarray | None, n_samples: int) -> np.ndarray | None:
    """Map prediction-time task labels onto the indices of the fitted ``labels``.

    ``labels`` is None for a model fitted without tasks.  Raises a ValueError if tasks are
    missing for a multi-task model, given for a single-task model, or unknown.
    """
    if labels is None:
        if tasks is not None:
            raise ValueError("the model was fitted without tasks; do not pass tasks")
        return None
    if tasks is None:
        raise ValueError(f"the model was fitted with tasks {list(labels)}; pass tasks= "
                         "(one task label per sample)")
    arr = check_tasks(tasks, n_samples)
    lookup = {v: i for i, v in enumerate(np.asarray(labels).tolist())}
    idx = [lookup.get(v, -1) for v in arr.tolist()]
    if -1 in idx:
        unknown = sorted({str(v) for v, i in zip(arr.tolist(), idx, strict=True) if i < 0})
        raise ValueError(f"unknown task label(s) {unknown}; the model knows "
                         f"{np.asarray(labels).tolist()}")
    return np.asarray(idx, dtype=np.int64)


def check_hashable_labels(y: Any) -> None:
    """Raise a ValueError if a class label is not hashable (e.g. a list)."""
    arr = y if isinstance(y, np.ndarray) else None
    if arr is None:
        try:
            arr = np.asarray(y, dtype=object)
        except ValueError:  # ragged nested sequences
            arr = np.empty(len(y), dtype=object)
            arr[:] = list(y)
    if arr.dtype == object and arr.ndim == 1:
        for v in arr:
            if not isinstance(v, Hashable):
                raise ValueError(
                    f"class labels must be hashable scalars (str, int, ...); got {type(v)}")
