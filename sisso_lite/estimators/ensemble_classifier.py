"""``SissoEnsembleClassifier``: bootstrap + feature-dropout ensembles of SISSO classifiers.

Members are fitted independently on their class-stratified bootstrap rows and kept columns
(the feature space is built per member); ``predict_proba`` is the fraction of member votes
and ``predict`` the majority class. The out-of-bag vote fractions (``oob_proba_``) estimate
how well the ensemble generalises. This is the feasibility classifier of constrained
campaigns (``P(feasible) * EI``, :mod:`sisso_lite.learning`).

References
----------
A. S. Nair, L. Foppa, M. Scheffler, npj Comput. Mater. (2025) (SISSO ensembles with feature
dropout); Ouyang et al., Phys. Rev. Mater. 2, 083802 (2018) (SISSO classification).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from joblib import delayed
from sklearn.base import ClassifierMixin, clone
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from sisso_lite.estimators.classifier import SissoClassifier
from sisso_lite.estimators.ensemble_base import EnsembleBase, fit_members, has_string_columns
from sisso_lite.estimators.ensemble_members import EnsembleMember, _fit_classifier_member

__all__ = ["SissoEnsembleClassifier"]


class ClassifierEnsembleMethods:
    """Fitting and voting of classifier members (shared with the deprecated
    ``SissoEnsemble(estimator=SissoClassifier(...))``)."""

    def _frame(self, X) -> pd.DataFrame:
        names = [str(n) for n in self.primary_names_]
        return pd.DataFrame(self._primary(X), columns=names)

    def _votes(self, X: pd.DataFrame, mask: np.ndarray) -> np.ndarray:
        """Vote fractions (n, n_classes) over the members where ``mask`` (K, n) is True."""
        votes = np.zeros((len(X), len(self.classes_)))
        for k, m in enumerate(self.members_):
            labels = m.model.predict(X[list(m.model.feature_names_in_)])
            code = np.searchsorted(self.classes_, labels)
            votes[np.flatnonzero(mask[k]), code[mask[k]]] += 1.0
        with np.errstate(invalid="ignore"):
            return votes / votes.sum(axis=1, keepdims=True)

    def _fit_classifier(self, est, X, y):
        """Members fitted independently on their rows and columns (space built per member)."""
        if getattr(self, "calibrate", None) is not None:
            raise ValueError("calibrate applies to regression ensembles only")
        named = has_string_columns(X)
        columns = [str(c) for c in X.columns] if isinstance(X, pd.DataFrame) else None
        X_arr, y_arr = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=2)
        check_classification_targets(y_arr)
        names = columns if named else [f"x{i}" for i in range(X_arr.shape[1])]
        X_df = pd.DataFrame(X_arr, columns=names,
                            index=X.index if isinstance(X, pd.DataFrame) else None)
        n_drop, n_rows, need = self._check_sampling(len(X_df), len(names), est.n_dim, True)
        plans = self._draw_members(len(X_df), np.asarray(names), n_drop, n_rows, need,
                                   strata=y_arr)
        jobs = []
        for _, rows, dropped in plans:
            keep = [j for j, n in enumerate(names) if n not in dropped]
            member = clone(est)
            for param in ("units", "feature_names"):
                value = getattr(member, param, None)
                if value is not None and not isinstance(value, dict):
                    member.set_params(**{param: [value[j] for j in keep]})
            jobs.append(delayed(_fit_classifier_member)(
                member, X_df.iloc[rows, keep], y_arr[rows]))
        models = fit_members(jobs, self.n_jobs, getattr(self, "verbose", 0))
        self.members_ = [
            EnsembleMember(rows=rows, dropped_features=dropped,
                           descriptors=[str(d) for d in m.descriptors_],
                           coefficients=np.asarray(m.coef_).copy(),
                           intercept=np.asarray(m.intercept_).copy(), model=m, seed=seed)
            for (seed, rows, dropped), m in zip(plans, models, strict=True)
        ]
        self.classes_ = np.unique(y_arr)
        self._set_input_names(X, names)
        self.estimator_ = est
        self.recalibrator_ = None
        self.descriptor_frequency_ = self._frequencies()
        oob = np.ones((len(plans), len(X_df)), dtype=bool)
        for k, m in enumerate(self.members_):
            oob[k, m.rows] = False
        self.oob_count_ = oob.sum(axis=0)
        self.oob_proba_ = self._votes(X_df, oob)
        return self


class SissoEnsembleClassifier(ClassifierMixin, ClassifierEnsembleMethods, EnsembleBase):
    """Bootstrap + feature-dropout ensemble of :class:`SissoClassifier` members.

    Parameters
    ----------
    estimator : SissoClassifier, optional
        Template whose parameters every member uses. Default ``SissoClassifier()``.
    n_estimators : int
        Number of members (>= 2).
    bootstrap : bool
        Class-stratified bootstrap of the training rows for every member.
    feature_dropout : float in [0, 1)
        Each member drops ``round(feature_dropout * n_primary)`` primary features at random.
    max_samples : int or float, optional
        Rows per bootstrap sample (float: fraction of ``n_samples``); default all (then
        stratified by class).
    random_state : int, RandomState or None
        All member samples are drawn up front, so results do not depend on ``n_jobs``.
    n_jobs : int, optional
        Parallel members via joblib (honours ``joblib.parallel_config``, e.g. dask).
    verbose : int
        ``> 0``: a progress bar over the fitted members.

    Attributes
    ----------
    members_ : list of EnsembleMember
    classes_ : ndarray
    oob_proba_ : ndarray (n_samples, n_classes)
        Out-of-bag vote fractions (NaN for rows in every member's sample).
    oob_count_ : ndarray (n_samples,)
    descriptor_frequency_ : pandas.Series
        Fraction of members whose descriptor contains each feature formula.
    primary_names_, feature_names_in_, n_features_in_
        As :class:`~sisso_lite.estimators.ensemble.SissoEnsemble`.
    """

    def __init__(self, estimator=None, n_estimators=100, bootstrap=True, feature_dropout=0.2,
                 max_samples=None, random_state=None, n_jobs=None, verbose=0):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.bootstrap = bootstrap
        self.feature_dropout = feature_dropout
        self.max_samples = max_samples
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _template(self) -> SissoClassifier:
        est = SissoClassifier() if self.estimator is None else clone(self.estimator)
        if not isinstance(est, ClassifierMixin):
            raise ValueError(f"SissoEnsembleClassifier needs a classifier template, got "
                             f"{type(est).__name__}; use SissoEnsemble for regression")
        return est

    def fit(self, X, y):
        """Fit the members and the out-of-bag vote fractions; returns self."""
        return self._fit_classifier(self._template(), X, y)

    def predict_members(self, X) -> np.ndarray:
        """Class labels of every member, (n_estimators, n_samples)."""
        check_is_fitted(self, "members_")
        X = self._frame(X)
        return np.vstack([m.model.predict(X[list(m.model.feature_names_in_)])
                          for m in self.members_])

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities = fraction of member votes."""
        check_is_fitted(self, "classes_")
        frame = self._frame(X)
        return self._votes(frame, np.ones((len(self.members_), len(frame)), dtype=bool))

    def predict(self, X) -> np.ndarray:
        """Majority class of the members."""
        check_is_fitted(self, "classes_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
