"""Sequential-learning benchmark metrics of Rohr et al., Chem. Sci. 11, 2696 (2020).

A sequential-learning (SL) campaign picks candidates one at a time from a pool of ``N``
candidates; the *target set* is the best ``K`` of them (e.g. the top 1%). A campaign is a trace
of hit flags (was pick ``i`` in the target set?), from which

* ``first_hit`` -- number of picks until the first target is found ("any good"),
* ``f(i)`` -- fraction of the target set found after ``i`` picks ("all good"),
* ``EF(i) = f(i) / (i/N)`` -- enhancement factor over random picking at budget ``i``,
* ``AF(f*) = f* N / i_SL(f*)`` -- acceleration factor: picks random selection needs on average
  to find a fraction ``f*`` of the targets (``f* N``) over the picks SL needed (``i_SL``).

Random picking without replacement has closed forms: the expected first hit is
``(N + 1) / (K + 1)`` and the expected ``f(i)`` is ``i / N``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "acceleration_factor",
    "enhancement_factor",
    "first_hit",
    "fraction_found",
    "hits",
    "random_first_hit",
    "random_fraction_found",
    "summarize_traces",
    "top_fraction_mask",
]

_GOALS = ("maximize", "minimize")
_RANDOM_ROW = "random (closed form)"
_TRACE_COLUMNS = ("strategy", "seed", "step", "hit", "n_pool", "n_targets")
#: relative slack when comparing ``f(i) >= f*`` (``f`` is a ratio of integers)
_F_TOL = 1e-12


# --------------------------------------------------------------------------- validation


def _check_goal(goal: str) -> None:
    if goal not in _GOALS:
        raise ValueError(f"goal must be 'maximize' or 'minimize', got {goal!r}")


def _check_count(value: int, name: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    return int(value)


def _check_fraction(value: float, name: str) -> float:
    value = float(value)
    if not 0.0 < value <= 1.0:
        raise ValueError(f"{name} must be in (0, 1], got {value}")
    return value


def _as_1d(values: ArrayLike, name: str, dtype: type = np.float64) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr.astype(dtype, copy=False)


def _as_flags(values: ArrayLike, name: str) -> NDArray[np.bool_]:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype != np.bool_:
        if arr.size and not np.isin(arr, (0, 1)).all():
            raise ValueError(f"{name} must be boolean (or 0/1)")
        arr = arr.astype(bool)
    return arr


def _ceil_count(fraction: float, n: int) -> int:
    """``ceil(fraction * n)`` robust to round-off (``0.01 * 2100`` is 21, not 22)."""
    return math.ceil(round(fraction * n, 9))


# --------------------------------------------------------------------------- single traces


def top_fraction_mask(
    values: ArrayLike, fraction: float = 0.01, goal: str = "maximize"
) -> NDArray[np.bool_]:
    """Boolean mask of the target set: the best ``ceil(fraction * N_finite)`` values.

    Parameters
    ----------
    values
        1-D property values of the pool. Non-finite entries (NaN, +-inf) are never in the set
        and do not count in ``N_finite``.
    fraction
        Fraction of the finite values in the target set, in (0, 1].
    goal : {"maximize", "minimize"}
        Whether the largest or the smallest values are best.

    Returns
    -------
    ndarray of bool, same length as ``values``
        True for the target set. Values tied with the threshold (the ``ceil(fraction *
        N_finite)``-th best value) are all included, so the set may be larger.
    """
    arr = _as_1d(values, "values")
    fraction = _check_fraction(fraction, "fraction")
    _check_goal(goal)
    finite = np.isfinite(arr)
    n_finite = int(finite.sum())
    if n_finite == 0:
        raise ValueError("values has no finite entries")
    k = _ceil_count(fraction, n_finite)
    scores = arr[finite] if goal == "maximize" else -arr[finite]
    threshold = np.partition(scores, n_finite - k)[n_finite - k]  # k-th largest score
    signed = arr if goal == "maximize" else -arr
    return finite & (signed >= threshold)


def hits(acquired_order: ArrayLike, target_mask: ArrayLike) -> NDArray[np.bool_]:
    """Whether each acquired candidate is in the target set.

    Parameters
    ----------
    acquired_order
        1-D integer positions into the pool, in acquisition order (length ``i_max``); each
        position at most once (picking without replacement).
    target_mask
        1-D boolean mask over the pool (e.g. from :func:`top_fraction_mask`).

    Returns
    -------
    ndarray of bool, shape (i_max,)
        ``target_mask[acquired_order]``.
    """
    mask = _as_flags(target_mask, "target_mask")
    order = np.asarray(acquired_order)
    if order.ndim != 1:
        raise ValueError(f"acquired_order must be one-dimensional, got shape {order.shape}")
    if order.size == 0:
        return np.zeros(0, dtype=bool)
    if not np.issubdtype(order.dtype, np.integer):
        raise ValueError(f"acquired_order must hold integer positions, got dtype {order.dtype}")
    if order.min() < 0 or order.max() >= mask.size:
        raise ValueError(f"acquired_order positions must lie in [0, {mask.size})")
    if np.unique(order).size != order.size:
        raise ValueError("acquired_order contains repeated positions")
    return mask[order]


def first_hit(hit_flags: ArrayLike) -> float:
    """1-based number of picks until the first hit ("any good"); ``np.inf`` if none."""
    flags = _as_flags(hit_flags, "hit_flags")
    if not flags.any():
        return np.inf
    return float(np.argmax(flags) + 1)


def fraction_found(hit_flags: ArrayLike, n_targets: int) -> NDArray[np.float64]:
    """Fraction of the target set found after each pick ("all good").

    Parameters
    ----------
    hit_flags
        1-D hit flags in acquisition order (from :func:`hits`).
    n_targets
        Size ``K`` of the target set; must be at least the number of hits.

    Returns
    -------
    ndarray of float, shape (len(hit_flags),)
        ``f(i)`` for ``i = 1 .. len(hit_flags)``.
    """
    flags = _as_flags(hit_flags, "hit_flags")
    n_targets = _check_count(n_targets, "n_targets")
    found = np.cumsum(flags)
    if found.size and found[-1] > n_targets:
        raise ValueError(f"hit_flags has {found[-1]} hits, more than n_targets={n_targets}")
    return found / n_targets


def random_first_hit(n_pool: int, n_targets: int) -> float:
    """Expected first hit of random picking without replacement, ``(N + 1) / (K + 1)``."""
    n_pool = _check_count(n_pool, "n_pool")
    n_targets = _check_count(n_targets, "n_targets")
    if n_targets > n_pool:
        raise ValueError(f"n_targets={n_targets} exceeds n_pool={n_pool}")
    return (n_pool + 1) / (n_targets + 1)


def random_fraction_found(i: ArrayLike, n_pool: int) -> NDArray[np.float64]:
    """Expected fraction found by random picking after ``i`` picks, ``i / N``.

    ``i`` may be a scalar or an array of pick numbers in ``[0, N]``; the result has its shape.
    """
    n_pool = _check_count(n_pool, "n_pool")
    picks = np.asarray(i, dtype=np.float64)
    if np.any(picks < 0) or np.any(picks > n_pool) or not np.all(np.isfinite(picks)):
        raise ValueError(f"i must lie in [0, n_pool={n_pool}]")
    return picks / n_pool


def enhancement_factor(f: ArrayLike, n_pool: int) -> NDArray[np.float64]:
    """Enhancement factor over random picking, ``EF(i) = f(i) / (i / N)`` for ``i = 1..len(f)``."""
    frac = _as_1d(f, "f")
    n_pool = _check_count(n_pool, "n_pool")
    if frac.size > n_pool:
        raise ValueError(f"f has {frac.size} entries, more than n_pool={n_pool} picks")
    picks = np.arange(1, frac.size + 1)
    return frac * n_pool / picks


def acceleration_factor(f: ArrayLike, n_pool: int, f_star: float) -> float:
    """Acceleration factor ``AF(f*) = f* N / i_SL(f*)``.

    ``i_SL`` is the first 1-based pick with ``f(i) >= f*``; random picking reaches ``f*`` on
    average after ``f* N`` picks. Returns NaN if the trace never reaches ``f*``.
    """
    frac = _as_1d(f, "f")
    n_pool = _check_count(n_pool, "n_pool")
    f_star = _check_fraction(f_star, "f_star")
    reached = frac >= f_star * (1.0 - _F_TOL)
    if not reached.any():
        return np.nan
    return f_star * n_pool / float(np.argmax(reached) + 1)


# --------------------------------------------------------------------------- many traces


def _quantile(values: np.ndarray, q: float) -> float:
    """Linear-interpolation quantile ignoring NaN; +inf entries sort last and stay +inf."""
    v = np.sort(values[~np.isnan(values)])
    if v.size == 0:
        return np.nan
    h = (v.size - 1) * q
    lo, hi = math.floor(h), math.ceil(h)
    if lo == hi or v[lo] == v[hi]:
        return float(v[lo])
    if not np.isfinite(v[hi]):
        return float(v[hi])
    return float(v[lo] + (h - lo) * (v[hi] - v[lo]))


def _check_traces(traces: pd.DataFrame, extra: Sequence[str] = ()) -> None:
    if not isinstance(traces, pd.DataFrame):
        raise ValueError(f"traces must be a pandas DataFrame, got {type(traces).__name__}")
    missing = [c for c in (*_TRACE_COLUMNS, *extra) if c not in traces.columns]
    if missing:
        raise ValueError(f"traces is missing columns {missing}")
    if traces.empty:
        raise ValueError("traces is empty")


def _split_traces(
    traces: pd.DataFrame, extra: Sequence[str] = ()
) -> Iterator[tuple[str, int, pd.DataFrame, int, int]]:
    """Yield ``(strategy, seed, trace sorted by step, n_pool, n_targets)`` per trace.

    Raises ValueError unless each trace has steps ``1..L`` exactly once and constant
    ``n_pool`` / ``n_targets``.
    """
    _check_traces(traces, extra)
    for (strategy, seed), group in traces.groupby(["strategy", "seed"], sort=False):
        group = group.sort_values("step")
        steps = group["step"].to_numpy()
        if not np.array_equal(steps, np.arange(1, len(group) + 1)):
            raise ValueError(
                f"traces: steps of strategy {strategy!r}, seed {seed} must be 1..L, each once"
            )
        sizes = group[["n_pool", "n_targets"]].drop_duplicates()
        if len(sizes) != 1:
            raise ValueError(
                f"traces: n_pool / n_targets vary within strategy {strategy!r}, seed {seed}"
            )
        n_pool, n_targets = (int(v) for v in sizes.iloc[0])
        yield strategy, seed, group, n_pool, n_targets


def _trace_metrics(
    flags: np.ndarray, n_pool: int, n_targets: int, checkpoints: Sequence[int], f_star: float
) -> dict[str, float]:
    """Per-trace metrics keyed like the summary columns without the quantile suffix."""
    f = fraction_found(flags, n_targets)
    out = {"first_hit": first_hit(flags)}
    for c in checkpoints:
        out[f"f{c}"] = float(f[c - 1]) if f.size >= c else np.nan
    last = checkpoints[-1]
    ef = enhancement_factor(f, n_pool)
    out[f"ef{last}"] = float(ef[last - 1]) if f.size >= last else np.nan
    out["af"] = acceleration_factor(f, n_pool, f_star)
    return out


def _pool_sizes(traces: pd.DataFrame) -> tuple[int, int]:
    sizes = traces[["n_pool", "n_targets"]].drop_duplicates()
    if len(sizes) != 1:
        raise ValueError(
            "traces: n_pool and n_targets must be the same for all traces (one pool per table)"
        )
    n_pool, n_targets = (int(v) for v in sizes.iloc[0])
    return n_pool, n_targets


def _check_checkpoints(checkpoints: Sequence[int]) -> tuple[int, ...]:
    values = tuple(_check_count(c, "checkpoints") for c in checkpoints)
    if not values:
        raise ValueError("checkpoints must not be empty")
    if list(values) != sorted(set(values)):
        raise ValueError(f"checkpoints must be strictly increasing, got {values}")
    return values


def summarize_traces(
    traces: pd.DataFrame,
    checkpoints: Sequence[int] = (50, 100, 150),
    f_star: float = 0.5,
) -> pd.DataFrame:
    """Median and interquartile range over seeds of the SL metrics, per strategy.

    Parameters
    ----------
    traces
        Long table, one row per pick, with columns ``strategy`` (str), ``seed`` (int),
        ``step`` (1-based pick number; each trace must have steps ``1..L``), ``hit`` (bool)
        and the per-trace scalars ``n_pool`` (pool size ``N``) and ``n_targets`` (target-set
        size ``K``). All traces must share one ``n_pool`` and ``n_targets``.
    checkpoints
        Strictly increasing pick budgets ``c`` at which ``f(c)`` is reported.
    f_star
        Fraction of the target set for the acceleration factor, in (0, 1].

    Returns
    -------
    DataFrame indexed by ``strategy`` (order of first appearance, then the random row)
        For each metric ``m`` the columns ``m_median``, ``m_q25``, ``m_q75`` (50th, 25th and
        75th percentiles over seeds, linear interpolation, NaN ignored), with ``m`` one of

        * ``first_hit`` -- picks to the first hit (``inf`` for a trace without hits),
        * ``f<c>`` for each checkpoint ``c`` -- fraction found after ``c`` picks (NaN for a
          trace shorter than ``c``),
        * ``ef<c_last>`` -- enhancement factor at the last (largest) checkpoint (NaN for a
          trace shorter than it),
        * ``af`` -- acceleration factor ``AF(f_star)`` (NaN for a trace that never reaches
          ``f_star``);

        plus ``af_reached`` (number of seeds reaching ``f_star``) and ``n_seeds``. The row
        ``"random (closed form)"`` holds the expectations of random picking in the
        ``_median`` columns (first hit ``(N+1)/(K+1)``, ``f(c) = c/N``, EF = AF = 1) and NaN
        in the quartile columns, ``af_reached`` and ``n_seeds``.
    """
    checkpoints = _check_checkpoints(checkpoints)
    f_star = _check_fraction(f_star, "f_star")
    _check_traces(traces)
    n_pool, n_targets = _pool_sizes(traces)
    per_trace: dict[str, list[dict[str, float]]] = {}
    for strategy, _, group, _, _ in _split_traces(traces):
        flags = _as_flags(group["hit"].to_numpy(), "traces['hit']")
        metrics = _trace_metrics(flags, n_pool, n_targets, checkpoints, f_star)
        per_trace.setdefault(strategy, []).append(metrics)
    rows = {s: _summary_row(m) for s, m in per_trace.items()}
    rows[_RANDOM_ROW] = _random_row(n_pool, n_targets, checkpoints, columns=rows)
    summary = pd.DataFrame.from_dict(rows, orient="index")
    summary.index.name = "strategy"
    return summary


def _summary_row(metrics: list[dict[str, float]]) -> dict[str, float]:
    table = pd.DataFrame(metrics)
    row: dict[str, float] = {}
    for name in table.columns:
        values = table[name].to_numpy(np.float64)
        for suffix, q in (("median", 0.5), ("q25", 0.25), ("q75", 0.75)):
            row[f"{name}_{suffix}"] = _quantile(values, q)
    row["af_reached"] = int(table["af"].notna().sum())
    row["n_seeds"] = len(table)
    return row


def _random_row(
    n_pool: int, n_targets: int, checkpoints: Sequence[int], columns: dict[str, dict]
) -> dict[str, float]:
    template = next(iter(columns.values()))
    row = dict.fromkeys(template, np.nan)
    row["first_hit_median"] = random_first_hit(n_pool, n_targets)
    for c in checkpoints:
        row[f"f{c}_median"] = float(random_fraction_found(min(c, n_pool), n_pool))
    row[f"ef{checkpoints[-1]}_median"] = 1.0
    row["af_median"] = 1.0
    return row
