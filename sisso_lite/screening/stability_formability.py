"""Perovskite formability: Goldschmidt t, Bartel tau and a SISSO classifier side by side.

* Goldschmidt, Naturwissenschaften 14, 477 (1926): ``t = (rA + rX) / (sqrt(2) (rB + rX))``;
  perovskite predicted for ``0.825 < t < 1.059`` (the window of Bartel et al.).
* C. J. Bartel et al., Sci. Adv. 5, eaav0693 (2019):
  ``tau = rX/rB - nA (nA - (rA/rB) / ln(rA/rB))``; perovskite predicted for ``tau < 4.18``.
  Published accuracies on the 576 ABX3 compounds: tau 0.91, t 0.74 (the ``all`` column
  of :func:`formability_comparison`; the 116-compound test split gives 0.94 and 0.76).
* A :class:`~sisso_lite.estimators.SissoClassifier` fitted on the paper's training split
  (R. Ouyang et al., Phys. Rev. Materials 2, 083802 (2018)).

t and tau are taken from the published columns (rounded to two decimals as in the paper's
table), so the rule accuracies reproduce the paper's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["FEATURES", "default_classifier", "formability_comparison", "goldschmidt_rule",
           "tau_rule"]

FEATURES = ["rA", "rB", "rX", "nA", "nB", "nX"]
T_WINDOW = (0.825, 1.059)
TAU_THRESHOLD = 4.18


def goldschmidt_rule(t) -> np.ndarray:
    """+1 (perovskite) for ``0.825 < t < 1.059``, else -1."""
    t = np.asarray(t, dtype=np.float64)
    return np.where((t > T_WINDOW[0]) & (t < T_WINDOW[1]), 1, -1)


def tau_rule(tau) -> np.ndarray:
    """+1 (perovskite) for ``tau < 4.18``, else -1 (NaN tau: -1)."""
    tau = np.asarray(tau, dtype=np.float64)
    return np.where(tau < TAU_THRESHOLD, 1, -1)


def default_classifier(units: dict | None = None):
    """The small SISSO classifier of notebook 02: 2D, rung 3 (``+ - * /`` last), n_sis 20."""
    from sisso_lite import SissoClassifier

    ops = ("+", "-", "*", "/", "exp", "log", "^-1", "^2", "sqrt", "|-|")
    return SissoClassifier(n_dim=2, max_complexity=3, n_sis=20, scoring="accuracy",
                           operators=(ops, ops, ("+", "-", "*", "/")),
                           units=None if units is None else [units[c] for c in FEATURES])


def formability_comparison(classifier=None, data: pd.DataFrame | None = None
                           ) -> tuple[pd.DataFrame, object]:
    """Accuracy of t, tau and a SISSO classifier on Bartel's train / test split.

    Parameters
    ----------
    classifier : classifier, optional
        Fitted here on the training split (``FEATURES`` columns, labels +-1); default
        :func:`default_classifier`.
    data : DataFrame, optional
        Bartel's ABX3 table (default: :func:`sisso_lite.datasets.load_bartel_perovskites`).

    Returns
    -------
    table : DataFrame
        Index ``Goldschmidt t``, ``Bartel tau``, ``SISSO classifier``; columns ``train``,
        ``test``, ``all`` (accuracy) and ``rule`` (the decision rule as text).
    classifier : the fitted classifier
    """
    from sklearn.base import clone

    units = None
    if data is None:
        from sisso_lite.datasets import load_bartel_perovskites

        data, units = load_bartel_perovskites()
    missing = [c for c in [*FEATURES, "label", "split", "t", "tau"] if c not in data.columns]
    if missing:
        raise ValueError(f"data lacks the columns {missing}")
    train, test = data[data.split == "train"], data[data.split == "test"]
    if train.empty or test.empty:
        raise ValueError("data needs rows of both splits ('train' and 'test')")
    clf = default_classifier(units) if classifier is None else clone(classifier)
    clf.fit(train[FEATURES], train.label)

    def acc(pred, frame) -> float:
        return float(np.mean(np.asarray(pred) == frame.label.to_numpy()))

    rules = {
        "Goldschmidt t": (lambda f: goldschmidt_rule(f.t), "0.825 < t < 1.059"),
        "Bartel tau": (lambda f: tau_rule(f.tau), "tau < 4.18"),
        "SISSO classifier": (lambda f: clf.predict(f[FEATURES]), _rule_text(clf)),
    }
    rows = {name: {"train": acc(fn(train), train), "test": acc(fn(test), test),
                   "all": acc(fn(data), data), "rule": text}
            for name, (fn, text) in rules.items()}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    return table, clf


def _rule_text(clf) -> str:
    sympy = getattr(clf, "sympy", None)
    if callable(sympy):
        try:
            return f"{sympy()} > 0"
        except Exception:  # noqa: BLE001 - text only
            pass
    return type(clf).__name__
