"""Stability screening: energy above the convex hull from SISSO laws, two routes compared.

Route ``"formation"`` (a) regresses the formation energy ``E_f`` and derives the energy above
the hull through a hull reference (:mod:`sisso_lite.screening.stability_hull`):
``E_hull = E_f - E_f^hull``; route ``"hull"`` (b) regresses ``E_hull`` directly. The
literature disagrees on which is better: ``E_f`` is the smoother target (a SISSO law of the
cation properties captures most of it), but the hull subtracts two large numbers, so an
error of ``E_f`` carries over one-to-one to ``E_hull`` while ``E_hull`` itself spans a much
smaller range (C. J. Bartel et al., npj Comput. Mater. 6, 97 (2020)).

:class:`StabilityScreen` is a scikit-learn style estimator (parameters in ``__init__``,
``fit`` returns self, fitted attributes end in ``_``) with ``predict`` (mean and sigma of
E_hull in eV/atom) and ``screen(candidates)`` (a ranked table with P(stable)); candidates
whose features or hull energy cannot be determined are skipped and listed in ``skipped_``.
:func:`compare_routes` fits both routes on the same split and reports errors (meV/atom) and
the recovery of the stable materials (``E_hull <= 25 meV/atom`` by default).

References
----------
* A. A. Emery, C. Wolverton, Sci. Data 4, 170153 (2017) -- the ABO3 table.
* R. Ouyang, S. Curtarolo, E. Ahmetcik, M. Scheffler, L. M. Ghiringhelli, Phys. Rev.
  Materials 2, 083802 (2018) -- SISSO.
* A. S. Nair, L. Foppa, M. Scheffler, npj Comput. Mater. (2025) -- SISSO ensembles.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
from scipy.special import ndtr
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from sisso_lite.learning.surrogates import surrogate_formula
from sisso_lite.screening.stability_features import ABO3Features, _formulas
from sisso_lite.screening.stability_hull import HullError

__all__ = ["ROUTES", "StabilityScreen", "compare_routes", "default_estimator", "law_of"]

ROUTES = ("formation", "hull")
_OPERATORS = ("+", "-", "*", "/", "exp", "^-1", "^2", "sqrt", "log", "|-|")
_MEV = 1000.0


def default_estimator(units: dict | None = None, random_state: int | None = 0, *,
                      n_estimators: int = 20, n_dim: int = 3, max_complexity: int = 2,
                      n_sis: int = 20):
    """The screen's default surrogate: a small SISSO ensemble with a recalibrated sigma.

    Bootstrap + 20 % feature dropout, ``predictive_std="mixture"`` (member spread plus
    out-of-bag error), one-factor recalibration on out-of-bag residuals.
    """
    from sisso_lite import SissoEnsemble, SissoRegressor

    template = SissoRegressor(n_dim=n_dim, max_complexity=max_complexity, n_sis=n_sis,
                              n_models=1, operators=_OPERATORS, units=units)
    return SissoEnsemble(template, n_estimators=n_estimators, feature_dropout=0.2,
                         predictive_std="mixture", calibrate="sigma",
                         random_state=random_state)


def _mean_std(model, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sigma of any regressor (sigma 0 when it has no ``return_std``)."""
    try:
        mean, std = model.predict(X, return_std=True)
    except TypeError:
        mean = model.predict(X)
        std = np.zeros(len(X))
    return np.asarray(mean, dtype=np.float64).ravel(), np.asarray(std, dtype=np.float64).ravel()


def law_of(model) -> str:
    """The law of a fitted regressor as a string (SISSO: the formula)."""
    if getattr(model, "members_", None):
        # surrogate_formula unwraps ``estimator_``, which on a bare SissoEnsemble is its
        # (unfitted) template: hand it the ensemble inside a wrapper instead
        law = surrogate_formula(SimpleNamespace(estimator_=model))
    else:
        law = surrogate_formula(model)
    if law:
        return law
    coef = getattr(model, "coef_", None)
    names = getattr(model, "feature_names_in_", None)
    if coef is not None and names is not None:
        terms = " ".join(f"{float(c):+.4g}*{n}" for c, n in zip(np.ravel(coef), names,
                                                                  strict=False))
        return f"{float(np.ravel(getattr(model, 'intercept_', 0.0))[0]):.4g} {terms}"
    return type(model).__name__


class StabilityScreen(BaseEstimator):
    """Screen candidates for thermodynamic stability (energy above the convex hull).

    Parameters
    ----------
    route : {"formation", "hull"}
        ``"formation"``: ``fit`` takes formation energies, E_hull = predicted E_f minus the
        hull energy of ``hull``; ``"hull"``: ``fit`` takes E_hull itself.
    estimator : regressor, optional
        Cloned and fitted on the features; one with ``predict(X, return_std=True)`` gives
        sigma and P(stable), others get sigma = 0. Default :func:`default_estimator`.
    hull : TabulatedHull or CompetingPhasesHull, optional
        Hull reference (anything with ``hull_energy_of(formula)``); required for route
        ``"formation"``.
    stable_threshold : float
        E_hull (eV/atom) up to which a material counts as stable (default 0.025).
    featurizer : ABO3Features or similar, optional
        Computes the features of candidates given by formula only (``featurize(frame,
        formula_column) -> (features, skipped)``); default :class:`ABO3Features` with the
        extra features when the screen was fitted on 10 columns.
    units : dict, optional
        Units of the features for the default estimator (dimensional analysis).
    random_state : int, optional
        Seed of the default estimator.

    Attributes
    ----------
    estimator_ : the fitted regressor
    law_ : str
        The fitted law as a formula string (target = E_f or E_hull, eV/atom).
    feature_names_in_ : ndarray of str
    n_features_in_ : int
    ranking_, skipped_ : DataFrame
        Set by :meth:`screen`: the ranked candidates and the skipped ones
        (``compound, reason``).
    """

    def __init__(self, route="formation", estimator=None, hull=None, stable_threshold=0.025,
                 featurizer=None, units=None, random_state=0):
        self.route = route
        self.estimator = estimator
        self.hull = hull
        self.stable_threshold = stable_threshold
        self.featurizer = featurizer
        self.units = units
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def _check_params(self) -> None:
        if self.route not in ROUTES:
            raise ValueError(f"route must be one of {ROUTES}, got {self.route!r}")
        if self.route == "formation" and self.hull is None:
            raise ValueError("route='formation' needs hull= (TabulatedHull or "
                             "CompetingPhasesHull) to turn E_f into E_hull")
        if self.hull is not None and not hasattr(self.hull, "hull_energy_of"):
            raise TypeError("hull must have a hull_energy_of(formula) method, got "
                            f"{type(self.hull).__name__}")
        if not np.isfinite(float(self.stable_threshold)):
            raise ValueError("stable_threshold must be finite")

    def fit(self, X: pd.DataFrame, y) -> StabilityScreen:
        """Fit the law of the route's target.

        Parameters
        ----------
        X : DataFrame
            Numeric primary features, one row per material.
        y : array-like
            Formation energy (route ``"formation"``) or E_hull (route ``"hull"``), eV/atom.

        Returns
        -------
        self
        """
        self._check_params()
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a DataFrame of features, got {type(X).__name__}")
        y = np.asarray(y, dtype=np.float64).ravel()
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)} values")
        if not np.all(np.isfinite(y)):
            raise ValueError(f"y has {int((~np.isfinite(y)).sum())} non-finite values; "
                             "drop those materials first")
        model = (default_estimator(self.units, self.random_state) if self.estimator is None
                 else clone(self.estimator))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            self.estimator_ = model.fit(X, y)
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        target = "E_f" if self.route == "formation" else "E_hull"
        self.law_ = f"{target} = {law_of(self.estimator_)}"
        return self

    # ------------------------------------------------------------------ predicting
    def _features(self, X: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise ValueError(f"X lacks the features {missing} the screen was fitted on")
        return X[list(self.feature_names_in_)].astype(np.float64)

    def predict_target(self, X: pd.DataFrame, return_std: bool = False):
        """The fitted target (E_f or E_hull, eV/atom) and optionally its sigma."""
        check_is_fitted(self, "estimator_")
        mean, std = _mean_std(self.estimator_, self._features(X))
        return (mean, std) if return_std else mean

    def hull_energies(self, formulas) -> np.ndarray:
        """Hull energy (eV/atom) of each formula; raises :class:`HullError` naming one."""
        return np.array([self.hull.hull_energy_of(f) for f in formulas], dtype=np.float64)

    def predict(self, X: pd.DataFrame, return_std: bool = False, formulas=None):
        """Predicted E_hull (eV/atom) and optionally its sigma.

        Parameters
        ----------
        X : DataFrame
            Features; for route ``"formation"`` its index (or ``formulas``) names the
            compounds whose hull energy is looked up.
        return_std : bool
        formulas : sequence of str, optional

        Raises
        ------
        HullError
            If the hull energy of a compound is unknown (use :meth:`screen` to skip it).
        """
        mean, std = self.predict_target(X, return_std=True)
        if self.route == "formation":
            names = list(X.index) if formulas is None else list(formulas)
            mean = mean - self.hull_energies(names)
        return (mean, std) if return_std else mean

    def probability_stable(self, mean, std) -> np.ndarray:
        """``P(E_hull <= stable_threshold)`` for a Gaussian ``N(mean, std^2)``."""
        mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (float(self.stable_threshold) - mean) / np.where(std > 0, std, 1.0)
        return np.where(std > 0, ndtr(z), (mean <= self.stable_threshold).astype(float))

    # ------------------------------------------------------------------ screening
    def screen(self, candidates: pd.DataFrame, formula_column: str = "formula",
               top: int | None = None) -> pd.DataFrame:
        """Rank candidates by predicted E_hull; skip (and report) those that cannot be.

        Parameters
        ----------
        candidates : DataFrame
            A ``formula_column`` (or formulas as the index) and either the fitted feature
            columns or nothing else (features are then computed by ``featurizer``;
            ``A``/``B`` columns may name the cations).
        formula_column : str
        top : int, optional
            Keep only the best ``top`` rows.

        Returns
        -------
        DataFrame
            Ranked (lowest predicted E_hull first; index = rank from 1): ``formula``,
            ``E_hull_meV``, ``sigma_meV``, ``P_stable``, ``route``, ``law`` and for route
            ``"formation"`` also ``E_f_meV`` and ``hull_energy_meV``. Also stored as
            ``ranking_``; skipped candidates are in ``skipped_`` (``compound, reason``)
            and summarised in one ``UserWarning``.
        """
        check_is_fitted(self, "estimator_")
        formulas = _formulas(candidates, formula_column)
        skipped: dict = {}
        if all(c in candidates.columns for c in self.feature_names_in_):
            feats = candidates[list(self.feature_names_in_)].astype(np.float64)
        else:
            featurizer = self.featurizer or ABO3Features(with_extra=self.n_features_in_ > 6)
            feats, bad = featurizer.featurize(candidates, formula_column)
            skipped.update(bad.to_dict(orient="index"))
            feats = self._features(feats)
        finite = np.isfinite(feats.to_numpy()).all(axis=1)
        for label in feats.index[~finite]:
            cols = [c for c in feats.columns if not np.isfinite(feats.at[label, c])]
            skipped[label] = {"compound": formulas[label],
                              "reason": f"{formulas[label]}: features {cols} are missing"}
        feats = feats[finite]
        hull = np.zeros(len(feats))
        if self.route == "formation":
            ok = np.ones(len(feats), dtype=bool)
            for i, label in enumerate(feats.index):
                try:
                    hull[i] = self.hull.hull_energy_of(formulas[label])
                except HullError as err:
                    ok[i] = False
                    skipped[label] = {"compound": formulas[label], "reason": str(err)}
            feats, hull = feats[ok], hull[ok]
        mean_t, std = (self.predict_target(feats, return_std=True) if len(feats)
                       else (np.zeros(0), np.zeros(0)))
        mean = mean_t - hull
        good = np.isfinite(mean) & np.isfinite(std)
        for label in feats.index[~good]:
            skipped[label] = {"compound": formulas[label],
                              "reason": f"{formulas[label]}: the law gives no finite value"}
        table = pd.DataFrame({
            "formula": formulas[feats.index].to_numpy(), "E_hull_meV": mean * _MEV,
            "sigma_meV": std * _MEV, "P_stable": self.probability_stable(mean, std),
            "route": self.route, "law": self.law_}, index=feats.index)
        if self.route == "formation":
            table.insert(3, "E_f_meV", mean_t * _MEV)
            table.insert(4, "hull_energy_meV", hull * _MEV)
        table = table[good].sort_values(["E_hull_meV", "formula"]).reset_index(drop=True)
        table.index = pd.RangeIndex(1, len(table) + 1, name="rank")
        if top is not None:
            table = table.head(int(top))
        self.ranking_ = table
        self.skipped_ = pd.DataFrame.from_dict(skipped, orient="index",
                                               columns=["compound", "reason"])
        if len(self.skipped_):
            shown = "; ".join(self.skipped_["reason"].head(5))
            more = f" (+{len(self.skipped_) - 5} more)" if len(self.skipped_) > 5 else ""
            warnings.warn(f"stability screen skipped {len(self.skipped_)} of "
                          f"{len(candidates)} candidates: {shown}{more}; see skipped_",
                          UserWarning, stacklevel=2)
        return table


def _recovery(true_stable: np.ndarray, pred: np.ndarray, threshold: float
              ) -> dict[str, float]:
    """Stable materials recovered by ``pred <= threshold`` and by the ``K`` lowest ``pred``."""
    pred_stable = pred <= threshold
    tp = int(np.sum(true_stable & pred_stable))
    n_pred, n_true = int(pred_stable.sum()), int(true_stable.sum())
    top_k = np.argsort(pred, kind="stable")[:n_true]
    return {"n_stable_true": n_true, "n_stable_pred": n_pred, "n_recovered": tp,
            "precision": tp / n_pred if n_pred else float("nan"),
            "recall": tp / n_true if n_true else float("nan"),
            "recall_at_k": float(true_stable[top_k].mean()) if n_true else float("nan")}


def compare_routes(X: pd.DataFrame, formation_energy, e_hull, hull, *, test=None,
                   test_size: float = 0.2, estimator=None, stable_threshold: float = 0.025,
                   units: dict | None = None, random_state: int = 0,
                   return_predictions: bool = False):
    """Fit both routes on the same training rows and score E_hull on the same test rows.

    Parameters
    ----------
    X : DataFrame
        Features indexed by formula (the hull reference looks the index up).
    formation_energy, e_hull : array-like
        Both targets (eV/atom), aligned with ``X``.
    hull : TabulatedHull or CompetingPhasesHull
        Hull reference of route (a).
    test : array-like of bool or int positions, optional
        The test rows; default a random ``test_size`` share (seed ``random_state``).
    estimator : regressor, optional
        Used by both routes (default :func:`default_estimator`).
    stable_threshold : float
        Stable = E_hull <= threshold (eV/atom).
    units : dict, optional
        Feature units for the default estimator.
    random_state : int
    return_predictions : bool
        Also return the per-material test predictions.

    Returns
    -------
    table : DataFrame
        One row per route (index ``"formation (a)"``, ``"hull (b)"``): ``MAE_meV``,
        ``RMSE_meV`` of E_hull on the test rows, ``n_stable_true``, ``n_stable_pred``,
        ``n_recovered`` (stable and predicted stable), ``precision``, ``recall``,
        ``recall_at_k`` (share of truly stable among the ``K = n_stable_true`` lowest
        predictions: a ranking measure that works when no prediction crosses the
        threshold) and the ``law``.
    predictions : DataFrame, only with ``return_predictions``
        Test rows: ``E_hull_true``, ``E_hull_formation``, ``E_hull_hull`` (eV/atom) and
        the stable flags.
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a DataFrame of features, got {type(X).__name__}")
    ef = np.asarray(formation_energy, dtype=np.float64).ravel()
    eh = np.asarray(e_hull, dtype=np.float64).ravel()
    if not len(ef) == len(eh) == len(X):
        raise ValueError(f"X ({len(X)}), formation_energy ({len(ef)}) and e_hull ({len(eh)}) "
                         "must have the same length")
    n = len(X)
    if test is None:
        rng = np.random.default_rng(random_state)
        is_test = np.zeros(n, dtype=bool)
        is_test[rng.permutation(n)[: max(1, round(test_size * n))]] = True
    else:
        test = np.asarray(test)
        is_test = test.astype(bool) if test.dtype == bool else np.isin(np.arange(n), test)
    if is_test.all() or not is_test.any():
        raise ValueError("the split must leave both training and test rows")
    X_tr, X_te = X[~is_test], X[is_test]
    preds, rows = {}, {}
    for route, y_train, label in (("formation", ef, "formation (a)"), ("hull", eh, "hull (b)")):
        screen = StabilityScreen(route=route, estimator=estimator, hull=hull,
                                 stable_threshold=stable_threshold, units=units,
                                 random_state=random_state).fit(X_tr, y_train[~is_test])
        pred = screen.predict(X_te)
        preds[route] = pred
        err = pred - eh[is_test]
        rows[label] = {"MAE_meV": float(np.mean(np.abs(err))) * _MEV,
                       "RMSE_meV": float(np.sqrt(np.mean(err**2))) * _MEV,
                       **_recovery(eh[is_test] <= stable_threshold, pred, stable_threshold),
                       "law": screen.law_}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "route"
    if not return_predictions:
        return table
    predictions = pd.DataFrame({
        "E_hull_true": eh[is_test], "E_hull_formation": preds["formation"],
        "E_hull_hull": preds["hull"], "stable_true": eh[is_test] <= stable_threshold,
        "stable_formation": preds["formation"] <= stable_threshold,
        "stable_hull": preds["hull"] <= stable_threshold}, index=X_te.index)
    return table, predictions
