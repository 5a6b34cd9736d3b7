"""Plot helper: target distribution inside vs outside the top rules."""

from __future__ import annotations

from typing import Any

import numpy as np

from .selectors import as_frame

__all__ = ["plot_subgroups"]


def plot_subgroups(model: Any, X: Any, y: Any, n_rules: int = 3, bins: int = 20,
                   axes: Any = None) -> Any:
    """Histogram of ``y`` inside vs outside each of the ``n_rules`` best rules.

    Parameters
    ----------
    model : SubgroupDiscovery
        Fitted estimator.
    X, y : data on which to show the distributions.
    n_rules : int
        Number of rules (one panel each).
    bins : int
        Histogram bins.
    axes : sequence of matplotlib Axes, optional
        Target axes; a new figure is created if omitted.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    names = None if hasattr(X, "columns") else list(model.feature_names_in_)
    df = as_frame(X, names)
    y = np.asarray(y, dtype=float).ravel()
    rules = model.rules_[:n_rules]
    if not rules:
        raise ValueError("the model has no rules to plot")
    if axes is None:
        fig, axes = plt.subplots(len(rules), 1, figsize=(6, 2.6 * len(rules)), squeeze=False)
        axes = axes[:, 0]
    else:
        fig = axes[0].figure
    edges = np.histogram_bin_edges(y, bins=bins)
    for ax, rule in zip(axes, rules, strict=False):
        m = rule.covers(df)
        ax.hist(y[~m], bins=edges, alpha=0.6, label=f"outside (n={int((~m).sum())})")
        ax.hist(y[m], bins=edges, alpha=0.6, label=f"inside (n={int(m.sum())})")
        ax.set_title(str(rule), fontsize=9)
        ax.legend(fontsize=8)
    axes[-1].set_xlabel("target")
    fig.tight_layout()
    return fig
