"""Validation of a campaign's pool and arguments (clear errors that name the problem)."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

__all__ = [
    "absolute_oracle_spec",
    "check_acquisition_params",
    "check_goal",
    "check_pool",
    "choose_features",
    "feasibility_probability",
    "feature_matrix",
    "json_label",
    "labels_to_positions",
    "positive_int",
    "seed_int",
    "target_values",
]


def check_pool(pool, id_column: str | None) -> pd.DataFrame:
    """A copy of the pool after checking it is a non-empty DataFrame with unique ids."""
    if not isinstance(pool, pd.DataFrame):
        raise TypeError(f"pool must be a pandas DataFrame, got {type(pool).__name__}")
    if len(pool) == 0:
        raise ValueError("the pool is empty: give at least one candidate row")
    dup = pool.index[pool.index.duplicated()]
    if len(dup):
        raise ValueError(f"the pool index has duplicate labels {dup.unique().tolist()[:5]}; "
                         "candidates must be identified uniquely (reset_index() if needed)")
    if id_column is not None:
        if id_column not in pool.columns:
            raise ValueError(f"id_column {id_column!r} is not a column of the pool")
        ids = pool[id_column]
        if ids.duplicated().any():
            raise ValueError(f"id_column {id_column!r} has duplicate ids "
                             f"{ids[ids.duplicated()].unique().tolist()[:5]}")
    return pool.copy()


def choose_features(pool: pd.DataFrame, features, target, id_column) -> list[str]:
    """The feature columns (given, or every numeric column but target and id)."""
    if target is not None and target not in pool.columns:
        raise ValueError(f"target column {target!r} is not in the pool "
                         f"(columns: {list(pool.columns)[:10]})")
    if features is None:
        skip = {target, id_column}
        features = [c for c in pool.columns
                    if c not in skip and pd.api.types.is_numeric_dtype(pool[c])
                    and not pd.api.types.is_bool_dtype(pool[c])]
        if not features:
            raise ValueError("the pool has no numeric feature column; pass features=[...]")
        return [str(c) if not isinstance(c, str) else c for c in features]
    features = list(features)
    missing = [f for f in features if f not in pool.columns]
    if missing:
        raise ValueError(f"the pool lacks the feature columns {missing} "
                         "that the surrogate needs")
    if target in features:
        raise ValueError(f"target column {target!r} cannot also be a feature")
    return features


def feature_matrix(pool: pd.DataFrame, features: list[str]) -> np.ndarray:
    """Float64 feature matrix; non-numeric or non-finite entries name column and row."""
    cols = []
    for f in features:
        col = pool[f]
        if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            raise ValueError(f"feature column {f!r} is not numeric (dtype {col.dtype})")
        values = col.to_numpy(dtype=np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            rows = pool.index[bad].tolist()[:5]
            raise ValueError(f"feature column {f!r} has {int(bad.sum())} non-finite values "
                             f"(NaN or inf), e.g. at rows {rows}; impute or drop them")
        cols.append(values)
    return np.column_stack(cols)


def target_values(pool: pd.DataFrame, target: str | None) -> np.ndarray | None:
    """Known target values as float64 (NaN = unmeasured); infinities are rejected."""
    if target is None:
        return None
    col = pool[target]
    if not pd.api.types.is_numeric_dtype(col):
        raise ValueError(f"target column {target!r} is not numeric (dtype {col.dtype})")
    values = col.to_numpy(dtype=np.float64)
    if np.isinf(values).any():
        rows = pool.index[np.isinf(values)].tolist()[:5]
        raise ValueError(f"target column {target!r} has infinite values at rows {rows}")
    return values


def check_goal(goal: str) -> str:
    if goal not in ("maximize", "minimize"):
        raise ValueError(f"goal must be 'maximize' or 'minimize', got {goal!r}")
    return goal


def check_acquisition_params(acquire, params: dict, goal: str) -> None:
    """Call the acquisition once on a tiny prediction so that wrong ``acquisition_params``
    fail at construction, before anything is measured."""
    from sisso_lite.learning.acquisition import Prediction

    probe = Prediction(mean=np.array([0.0, 1.0]), std=np.array([1.0, 0.5]),
                       samples=np.array([[0.0, 1.0], [0.5, 0.2]]), p_feasible=np.ones(2))
    try:
        acquire(probe, best=0.5, goal=goal, rng=np.random.default_rng(0), **params)
    except (TypeError, ValueError) as err:
        raise ValueError(f"acquisition_params {params} do not fit the acquisition "
                         f"{getattr(acquire, '__name__', acquire)!s}: {err}") from err


def absolute_oracle_spec(spec: str) -> str:
    """``file.py:function`` with an absolute path (a resume may run in another directory)."""
    module, sep, attr = spec.rpartition(":")
    if module.endswith(".py"):
        from pathlib import Path

        return f"{Path(module).resolve()}{sep}{attr}"
    return spec


def positive_int(name: str, value) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def seed_int(value) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0:
        raise ValueError(f"random_state must be a non-negative integer or None, got {value!r}")
    return int(value)


def json_label(label):
    """A pool index label as a JSON value (numpy scalars to Python)."""
    if isinstance(label, np.generic):
        return label.item()
    return label


def labels_to_positions(pool: pd.DataFrame, labels, what: str) -> np.ndarray:
    """Positions of index labels; unknown or repeated labels raise naming them."""
    labels = list(labels)
    if len(set(map(repr, labels))) != len(labels):
        raise ValueError(f"{what} lists a pool row more than once")
    missing = [lab for lab in labels if lab not in pool.index]
    if missing:
        raise ValueError(f"{what} names rows not in the pool index: {missing[:5]}")
    return np.asarray(pool.index.get_indexer(labels), dtype=np.int64)


def feasibility_probability(feasibility, pool: pd.DataFrame, X: np.ndarray) -> np.ndarray:
    """P(feasible) of every pool row from a column, a function or a fitted classifier."""
    if isinstance(feasibility, str):
        if feasibility not in pool.columns:
            raise ValueError(f"feasibility column {feasibility!r} is not in the pool")
        p = pool[feasibility].to_numpy(dtype=np.float64)
        where = f"feasibility column {feasibility!r}"
    elif hasattr(feasibility, "predict_proba"):
        frame = pd.DataFrame(X, columns=getattr(feasibility, "feature_names_in_", None),
                             index=pool.index) if hasattr(feasibility, "feature_names_in_") \
            else X
        proba = np.asarray(feasibility.predict_proba(frame), dtype=np.float64)
        classes = list(getattr(feasibility, "classes_", range(proba.shape[1])))
        col = next((i for i, c in enumerate(classes) if c is True or c == 1), len(classes) - 1)
        p = proba[:, col]
        where = f"{type(feasibility).__name__}.predict_proba"
    elif callable(feasibility):
        p = np.asarray(feasibility(pool), dtype=np.float64).ravel()
        where = "the feasibility function"
    else:
        raise TypeError("feasibility must be a pool column name, a function of the pool or "
                        "a fitted classifier with predict_proba")
    if p.shape != (len(pool),):
        raise ValueError(f"{where} gave {p.shape} probabilities for {len(pool)} pool rows")
    bad = ~np.isfinite(p) | (p < 0) | (p > 1)
    if bad.any():
        raise ValueError(f"{where} has {int(bad.sum())} values outside [0, 1] "
                         f"(e.g. rows {pool.index[bad].tolist()[:5]})")
    return p
