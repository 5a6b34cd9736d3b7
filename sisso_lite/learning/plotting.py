"""Plots of sequential-learning traces (matplotlib, headless-safe).

Both functions take the long trace table of :func:`sisso_lite.learning.metrics.summarize_traces`
(columns ``strategy, seed, step, hit, n_pool, n_targets``), draw into an existing ``Axes`` (or a
new pyplot-free figure) and return the ``Axes``: one median line per strategy with a shaded
interquartile band over seeds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sisso_lite.learning.metrics import (
    _as_flags,
    _check_goal,
    _pool_sizes,
    _split_traces,
    fraction_found,
    random_fraction_found,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["plot_best_so_far", "plot_fraction_found"]


def _axes(ax: Axes | None) -> Axes:
    """``ax`` or a new pyplot-free (hence headless-safe) figure's axes."""
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=(5.0, 4.0), layout="constrained").add_subplot()


def _curves(
    traces: pd.DataFrame,
    per_trace: Callable[[pd.DataFrame, int], np.ndarray],
    extra: tuple[str, ...] = (),
) -> dict[str, np.ndarray]:
    """Strategy -> array (n_seeds, max_steps) of ``per_trace(group, n_targets)``, NaN-padded."""
    rows: dict[str, list[np.ndarray]] = {}
    for strategy, _, group, _, n_targets in _split_traces(traces, extra):
        rows.setdefault(strategy, []).append(per_trace(group, n_targets))
    out = {}
    for strategy, curves in rows.items():
        matrix = np.full((len(curves), max(c.size for c in curves)), np.nan)
        for k, curve in enumerate(curves):
            matrix[k, : curve.size] = curve
        out[strategy] = matrix
    return out


def _draw_bands(ax: Axes, curves: dict[str, np.ndarray]) -> None:
    """Median line and 25-75% band per strategy (steps with at least one seed)."""
    for strategy, matrix in curves.items():
        steps = np.arange(1, matrix.shape[1] + 1)
        q25, med, q75 = np.nanpercentile(matrix, [25, 50, 75], axis=0)
        (line,) = ax.plot(steps, med, lw=2, label=f"{strategy} (n={matrix.shape[0]})")
        ax.fill_between(steps, q25, q75, color=line.get_color(), alpha=0.25, lw=0)


def plot_fraction_found(
    traces: pd.DataFrame, ax: Axes | None = None, show_random: bool = True
) -> Axes:
    """Fraction of the target set found, ``f(i)``, versus the number of picks ``i``.

    Parameters
    ----------
    traces
        Long trace table (see :func:`~sisso_lite.learning.metrics.summarize_traces`).
    ax
        Axes to draw into; defaults to a new Agg-safe figure.
    show_random
        Also draw the expectation of random picking, ``i / N`` (dashed grey line); requires
        one ``n_pool`` for all traces.

    Returns
    -------
    Axes
        With one line per strategy (plus the random line) and a legend.
    """
    curves = _curves(
        traces, lambda g, k: fraction_found(_as_flags(g["hit"].to_numpy(), "hit"), k)
    )
    ax = _axes(ax)
    _draw_bands(ax, curves)
    if show_random:
        n_pool, _ = _pool_sizes(traces)
        steps = np.arange(0, max(m.shape[1] for m in curves.values()) + 1)
        ax.plot(steps, random_fraction_found(steps, n_pool), ls="--", color="0.5", lw=1,
                label="random (i/N)")
    ax.set(xlabel="number of picks i", ylabel="fraction of targets found f(i)", ylim=(0, 1.02))
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_best_so_far(
    traces: pd.DataFrame, ax: Axes | None = None, goal: str = "maximize"
) -> Axes:
    """Best property value found so far versus the number of picks.

    Parameters
    ----------
    traces
        Long trace table with an additional ``value`` column (property of each pick; NaN
        values are skipped in the running best).
    ax
        Axes to draw into; defaults to a new Agg-safe figure.
    goal : {"maximize", "minimize"}
        Whether the running maximum or minimum is the best so far.

    Returns
    -------
    Axes
        With one median line and IQR band per strategy and a legend.
    """
    _check_goal(goal)
    running = np.fmax.accumulate if goal == "maximize" else np.fmin.accumulate

    def best(group: pd.DataFrame, _: int) -> np.ndarray:
        return running(group["value"].to_numpy(np.float64))

    curves = _curves(traces, best, extra=("value",))
    ax = _axes(ax)
    _draw_bands(ax, curves)
    ax.set(xlabel="number of picks i", ylabel=f"best value so far ({goal})")
    ax.legend(loc="lower right" if goal == "maximize" else "upper right", fontsize="small")
    return ax
