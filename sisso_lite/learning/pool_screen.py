"""Screen a candidate pool that does not fit in memory, partition by partition.

:func:`screen_pool` predicts the mean and standard deviation of every candidate
(``model.predict(X, return_std=True)``), scores them with an acquisition function
(:mod:`.acquisition`) and keeps the ``k`` best rows of each partition; the partition tops
are gathered at the end and cut to the global top ``k``. A partition is held in memory at
a time (a ``dask.dataframe`` partition on a worker, or one chunk of an iterator of pandas
frames, e.g. ``pandas.read_csv(..., chunksize=...)``), so the pool's size is bounded only by
the disk.

The result equals the in-memory one (:func:`.acquisition.select_top` on the whole pool):
the sort is stable (ties go to the earlier row) and NaN scores rank last in both, and the
top ``k`` of the whole pool is contained in the union of the partition tops. Improvement
based acquisitions (PI, EI, log-EI, constrained) with nothing observed (``best`` NaN) use
the best predicted mean of the *whole* pool as incumbent; :func:`screen_pool` then makes a
first pass over the partitions for that maximum. Stochastic acquisitions (``random``,
``thompson``) draw per candidate and cannot be split reproducibly: they are refused.

References
----------
* M. Rocklin, "Dask: parallel computation with blocked algorithms and task scheduling",
  Proc. SciPy 2015 (``dask.dataframe``).
* B. Rohr et al., Chem. Sci. 11, 2696 (2020) -- sequential learning for materials discovery.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .acquisition import get_acquisition, is_stochastic
from .prediction import Prediction

__all__ = ["screen_pool"]

#: acquisitions whose value does not depend on ``best``
_BEST_FREE = frozenset({"greedy", "explore", "upper_confidence_bound",
                        "lower_confidence_bound", "target_window"})  # fmt: skip
COLUMNS = ("mu", "sigma", "acquisition")


def _inputs(part: pd.DataFrame, features: Sequence[str] | None,
            featurize: Callable[[pd.DataFrame], Any] | None) -> Any:  # fmt: skip
    if featurize is not None:
        return featurize(part)
    if features is None:
        return part
    missing = [c for c in features if c not in part.columns]
    if missing:
        raise KeyError(f"pool has no column(s) {missing} (columns: {list(part.columns)})")
    return part[list(features)]


def _predict(model: Any, part: pd.DataFrame, features, featurize) -> tuple[np.ndarray, ...]:
    mu, sigma = model.predict(_inputs(part, features, featurize), return_std=True)
    mu, sigma = np.asarray(mu, np.float64).ravel(), np.asarray(sigma, np.float64).ravel()
    if mu.shape != (len(part),) or sigma.shape != (len(part),):
        raise ValueError(f"model.predict returned {mu.shape}/{sigma.shape} for a partition of "
                         f"{len(part)} rows")  # fmt: skip
    return mu, sigma


def _partition_top(part: pd.DataFrame, model: Any, acquisition: Callable, k: int,
                   best: float, goal: str, params: dict, features, featurize
                   ) -> pd.DataFrame:  # fmt: skip
    """The ``k`` best rows of one partition with their mu, sigma and acquisition value."""
    if len(part) == 0:
        return part.assign(**{c: np.empty(0) for c in COLUMNS})
    mu, sigma = _predict(model, part, features, featurize)
    score = np.asarray(acquisition(Prediction(mu, sigma), best=best, goal=goal, **params),
                       np.float64)  # fmt: skip
    key = -np.where(np.isnan(score), -np.inf, score)
    top = np.argsort(key, kind="stable")[:k]
    return part.iloc[top].assign(mu=mu[top], sigma=sigma[top], acquisition=score[top])


def _partition_best(part: pd.DataFrame, model: Any, sign: float, features, featurize
                    ) -> pd.DataFrame:  # fmt: skip
    """Best flipped mean of a partition over the valid candidates (-inf if none)."""
    if len(part) == 0:
        return pd.DataFrame({"best": [-np.inf]})
    mu, sigma = _predict(model, part, features, featurize)
    flipped = sign * mu
    valid = np.isfinite(flipped) & np.isfinite(sigma)
    return pd.DataFrame({"best": [float(flipped[valid].max()) if valid.any() else -np.inf]})


def _dask_parts(pool: Any) -> list | None:
    """Delayed partitions of a ``dask.dataframe`` or of a list of ``dask.delayed`` frames."""
    if type(pool).__module__.startswith("dask") and hasattr(pool, "to_delayed"):
        return list(pool.to_delayed())
    if isinstance(pool, list | tuple) and pool and all(
            type(p).__module__.startswith("dask") and hasattr(p, "dask") for p in pool):
        return list(pool)
    return None


def screen_pool(
    model: Any,
    pool: Any,
    acquisition: str | Callable = "ei",
    *,
    k: int = 10,
    best: float = math.nan,
    goal: str = "maximize",
    features: Sequence[str] | None = None,
    featurize: Callable[[pd.DataFrame], Any] | None = None,
    params: dict | None = None,
) -> pd.DataFrame:
    """Top ``k`` candidates of a pool by acquisition value, one partition at a time.

    Parameters
    ----------
    model : estimator
        Fitted regressor with ``predict(X, return_std=True) -> (mean, std)`` (e.g.
        :class:`~sisso_lite.estimators.ensemble.SissoEnsemble`).
    pool : dask.dataframe.DataFrame, pandas.DataFrame, iterable of pandas.DataFrame or callable
        Candidates. A Dask frame (its ``to_delayed()`` partitions) or a list of
        ``dask.delayed`` objects that each load one pandas frame (e.g.
        ``dask.delayed(pandas.read_parquet)(path)``) is screened one task per partition on
        the active Dask scheduler (the workers of a ``dask.distributed.Client``, if one
        exists); an iterable chunk by chunk in this process; a callable ``pool()`` returning
        a fresh iterator of chunks when two passes are needed (``best`` NaN with an
        improvement-based acquisition).
    acquisition : str or callable
        Name in :data:`.acquisition.ACQUISITIONS` or an acquisition function.
    k : int
        Number of rows returned (fewer if the pool is smaller).
    best : float
        Best observed target value (NaN: nothing observed, see the module docstring).
    goal : {"maximize", "minimize"}
    features : sequence of str, optional
        Columns passed to ``model.predict`` (default: the whole partition).
    featurize : callable, optional
        ``featurize(partition) -> X`` instead of ``features`` (e.g. composition descriptors
        computed per partition).
    params : dict, optional
        Extra keyword arguments of the acquisition (``xi``, ``kappa``, ``low``/``high``).

    Returns
    -------
    pandas.DataFrame
        The ``k`` best rows, best first, with their original index and columns plus ``mu``,
        ``sigma`` and ``acquisition``.
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if goal not in ("maximize", "minimize"):
        raise ValueError(f"goal must be 'maximize' or 'minimize', got {goal!r}")
    fn = get_acquisition(acquisition)
    if is_stochastic(fn):
        raise ValueError(f"acquisition {acquisition!r} is stochastic (draws per candidate); "
                         "a partitioned screen cannot reproduce it: use a deterministic one")
    params = dict(params or {})
    sign = 1.0 if goal == "maximize" else -1.0
    needs_incumbent = fn.__name__ not in _BEST_FREE and (
        math.isnan(float(best)) or sign * float(best) == -math.inf)
    args = (features, featurize)
    parts = _dask_parts(pool)
    if parts is not None:  # one task per partition, on the active Dask scheduler
        import dask

        m = dask.delayed(model)  # one key: shipped once, not once per task
        if needs_incumbent:
            b = max(float(r["best"].iloc[0]) for r in dask.compute(
                *[dask.delayed(_partition_best)(p, m, sign, *args) for p in parts]))
            best = sign * b if np.isfinite(b) else math.nan
        tops = pd.concat(dask.compute(*[
            dask.delayed(_partition_top)(p, m, fn, int(k), best, goal, params, *args)
            for p in parts]))  # fmt: skip
    else:
        def chunks() -> Iterable[pd.DataFrame]:
            if isinstance(pool, pd.DataFrame):
                return [pool]
            return pool() if callable(pool) else pool

        if needs_incumbent:
            if not callable(pool) and iter(pool) is pool:
                raise ValueError(
                    f"acquisition {acquisition!r} with best=NaN needs two passes over the "
                    "pool (the incumbent is its best predicted mean): pass best=<observed "
                    "best>, a list of chunks, or a callable returning a fresh iterator"
                )  # fmt: skip
            b = max((_partition_best(c, model, sign, *args)["best"].iloc[0]
                     for c in chunks()), default=-np.inf)  # fmt: skip
            best = sign * b if np.isfinite(b) else math.nan
        parts = [_partition_top(c, model, fn, int(k), best, goal, params, *args)
                 for c in chunks()]  # fmt: skip
        if not parts:
            raise ValueError("the pool is empty (no partitions)")
        tops = pd.concat(parts)
    score = tops["acquisition"].to_numpy(np.float64)
    order = np.argsort(-np.where(np.isnan(score), -np.inf, score), kind="stable")[:k]
    return tops.iloc[order]
