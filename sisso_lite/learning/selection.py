"""One round's choice: fit the surrogate, score the candidates, pick a batch.

Batch strategies for ``batch_size > 1``:

``"believer"``
    Kriging believer (Ginsbourger, Le Riche, Carraro 2010): pick the best candidate, add it
    to the training data with its predicted mean as a pseudo-label, refit, pick the next.
``"liar"``
    Constant liar (same reference): as the believer, with one constant pseudo-label for all
    picks: the worst value observed so far (a pessimistic lie spreads the batch out).
``"thompson"``
    Thompson batch (Hernandez-Lobato et al., ICML 2017): one fit; every pick maximises a
    fresh draw (another ensemble member, or a Gaussian draw for surrogates without members).
``"top"``
    The ``batch_size`` best acquisition values of one fit (cheapest; batches can cluster).
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sisso_lite.learning.acquisition import Prediction, select_top, thompson
from sisso_lite.learning.surrogates import (
    make_surrogate,
    predict_distribution,
    surrogate_formula,
)

__all__ = ["BATCH_STRATEGIES", "Picks", "choose_batch", "fit_surrogate"]

BATCH_STRATEGIES = ("believer", "liar", "thompson", "top")


@dataclass
class Picks:
    """What one round chose, with what the surrogate thought of each pick."""

    positions: np.ndarray  # positions into the candidate arrays given to choose_batch
    pred_mean: np.ndarray
    pred_std: np.ndarray
    acquisition: np.ndarray
    formula: str = ""
    fit_seconds: float = 0.0
    acquisition_seconds: float = 0.0
    n_undefined: int = 0
    note: str = ""
    model: object = None
    prediction: Prediction | None = None  # first fit's prediction over all candidates


def _frame(X: np.ndarray, names: list[str] | None):
    return X if names is None else pd.DataFrame(X, columns=names)


def fit_surrogate(spec, X: np.ndarray, y: np.ndarray, seed: int,
                  names: list[str] | None = None):
    """Fit a fresh surrogate; returns ``(model, seconds, warning messages)``.

    With ``names`` the surrogate sees a DataFrame, so SISSO formulas use the column names.
    Warnings of the fit are returned (for the round's note), not printed.
    """
    model = make_surrogate(spec, X.shape[1], random_state=seed, n_samples=X.shape[0])
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(_frame(X, names), y)
    messages = sorted({str(w.message).splitlines()[0][:160] for w in caught})
    return model, time.perf_counter() - start, messages


def _predict(model, X: np.ndarray, p_feasible: np.ndarray | None,
             names: list[str] | None = None) -> Prediction:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # undefined member predictions
        pred = predict_distribution(model, _frame(X, names))
    if p_feasible is not None:
        pred = dataclasses.replace(pred, p_feasible=p_feasible)
    return pred


def choose_batch(*, spec, X_train: np.ndarray, y_train: np.ndarray, X_cand: np.ndarray,
                 k: int, acquisition: Callable, params: dict, goal: str, best: float,
                 strategy: str, rng: np.random.Generator, seed: int,
                 p_feasible: np.ndarray | None = None,
                 feature_names: list[str] | None = None) -> Picks:
    """Fit on ``(X_train, y_train)`` and pick ``k`` rows of ``X_cand``.

    ``seed`` seeds every surrogate fit of the round (refits of the believer included), and
    ``rng`` every stochastic acquisition, so that a round is a function of its inputs.
    """
    names = feature_names
    model, fit_s, notes = fit_surrogate(spec, X_train, y_train, seed, names)
    start = time.perf_counter()
    pred = _predict(model, X_cand, p_feasible, names)
    with np.errstate(all="ignore"):
        scores = np.asarray(acquisition(pred, best=best, goal=goal, rng=rng, **params),
                            dtype=np.float64)
    n_undefined = int(np.sum(~np.isfinite(pred.mean)))
    first = Picks(np.empty(0, dtype=np.int64), np.empty(0), np.empty(0), np.empty(0),
                  formula=surrogate_formula(model), n_undefined=n_undefined, model=model,
                  prediction=pred, note="; ".join(notes))
    extra_fit = 0.0
    if k == 1 or strategy == "top":
        chosen = select_top(scores, k)
        means, stds, acqs = pred.mean[chosen], pred.std[chosen], scores[chosen]
    elif strategy == "thompson":
        chosen, means, stds, acqs = _thompson_batch(pred, scores, k, goal, rng)
    elif strategy in ("believer", "liar"):
        chosen, means, stds, acqs, extra_fit = _pseudo_label_batch(
            spec, X_train, y_train, X_cand, k, acquisition, params, goal, best, strategy,
            rng, seed, p_feasible, pred, scores, names)
    else:
        raise ValueError(f"batch_strategy must be one of {BATCH_STRATEGIES}, got {strategy!r}")
    first.positions = np.asarray(chosen, dtype=np.int64)
    first.pred_mean, first.pred_std, first.acquisition = means, stds, acqs
    first.fit_seconds = fit_s + extra_fit
    first.acquisition_seconds = time.perf_counter() - start - extra_fit
    return first


def _thompson_batch(pred: Prediction, scores: np.ndarray, k: int, goal: str,
                    rng: np.random.Generator):
    chosen: list[int] = []
    acqs: list[float] = []
    draw = scores
    for j in range(k):
        if j > 0:
            with np.errstate(all="ignore"):
                draw = np.asarray(thompson(pred, best=np.nan, goal=goal, rng=rng), dtype=float)
        draw = draw.copy()
        draw[chosen] = -np.inf
        pick = int(select_top(draw, 1)[0])
        chosen.append(pick)
        acqs.append(float(draw[pick]))
    idx = np.asarray(chosen)
    return idx, pred.mean[idx], pred.std[idx], np.asarray(acqs)


def _pseudo_label_batch(spec, X_train, y_train, X_cand, k, acquisition, params, goal, best,
                        strategy, rng, seed, p_feasible, pred, scores, names):
    """Kriging believer / constant liar: refit on pseudo-labels after every pick."""
    maximize = goal == "maximize"
    lie = (np.min(y_train) if maximize else np.max(y_train)) if strategy == "liar" else None
    chosen: list[int] = []
    means, stds, acqs = [], [], []
    X_aug, y_aug = X_train, y_train
    extra_fit = 0.0
    remaining = np.ones(X_cand.shape[0], dtype=bool)
    for j in range(k):
        if j > 0:
            model, seconds, _ = fit_surrogate(spec, X_aug, y_aug, seed, names)
            extra_fit += seconds
            sub = np.flatnonzero(remaining)
            sub_pred = _predict(model, X_cand[sub],
                                None if p_feasible is None else p_feasible[sub], names)
            with np.errstate(all="ignore"):
                sub_scores = np.asarray(acquisition(sub_pred, best=best, goal=goal, rng=rng,
                                                    **params), dtype=np.float64)
            pick = int(sub[select_top(sub_scores, 1)[0]])
            local = int(np.searchsorted(sub, pick))
            mean, std, acq = sub_pred.mean[local], sub_pred.std[local], sub_scores[local]
        else:
            pick = int(select_top(scores, 1)[0])
            mean, std, acq = pred.mean[pick], pred.std[pick], scores[pick]
        chosen.append(pick)
        means.append(mean)
        stds.append(std)
        acqs.append(acq)
        remaining[pick] = False
        pseudo = lie if lie is not None else mean
        if not np.isfinite(pseudo):  # undefined prediction: believe the incumbent instead
            pseudo = best
        X_aug = np.vstack([X_aug, X_cand[pick:pick + 1]])
        y_aug = np.append(y_aug, pseudo)
        if np.isfinite(pseudo):
            best = pseudo if not np.isfinite(best) else (
                max(best, pseudo) if maximize else min(best, pseudo))
    return (np.asarray(chosen), np.asarray(means), np.asarray(stds), np.asarray(acqs),
            extra_fit)
