"""Ensembles of SISSO models for predictive uncertainty.

Each member is a full SISSO fit on a bootstrap resample of the materials with a random
subset of the primary features dropped; the spread of the member predictions is the
uncertainty. Bootstrap alone is over-confident (members keep selecting the same
descriptor); dropping primary features forces the ensemble to explore alternative
descriptors. Optional recalibration on out-of-bag residuals.

References
----------
* A. S. Nair, L. Foppa, M. Scheffler, npj Comput. Mater. (2025);
  J. Chem. Phys. 159, 114110 (2023) -- SISSO ensembles with feature dropout.
* G. Palmer et al., npj Comput. Mater. 8, 115 (2022) -- sigma scaling.
* V. Kuleshov et al., ICML 2018 -- isotonic recalibration.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
from joblib import delayed, effective_n_jobs
from scipy import stats
from sklearn.base import RegressorMixin, clone, is_classifier
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from sisso_lite.estimators._validation import check_units
from sisso_lite.estimators.ensemble_base import EnsembleBase, fit_members
from sisso_lite.estimators.ensemble_classifier import ClassifierEnsembleMethods
from sisso_lite.estimators.ensemble_members import EnsembleMember, _fit_batched, _fit_member
from sisso_lite.estimators.regressor import SissoRegressor
from sisso_lite.uncertainty.calibration import make_recalibrator
from sisso_lite.uncertainty.metrics import _check_level

__all__ = ["EnsembleMember", "SissoEnsemble"]


def _classifier_template(ens) -> bool:
    """``predict_proba`` exists only for ensembles of classifiers."""
    if ens.estimator is None or not is_classifier(ens.estimator):
        raise AttributeError("predict_proba needs a SissoClassifier template "
                             "(this is a regression ensemble)")
    return True


class SissoEnsemble(RegressorMixin, ClassifierEnsembleMethods, EnsembleBase):
    """Bootstrap + feature-dropout ensemble of SISSO models with calibrated uncertainty.

    The feature-space program is built once on all training rows and shared; members
    differ only in their (bootstrap) training rows and the primary features they may use.

    For classification use
    :class:`~sisso_lite.estimators.ensemble_classifier.SissoEnsembleClassifier`; a
    :class:`~sisso_lite.estimators.classifier.SissoClassifier` template here still works
    (vote fractions, majority class, accuracy as ``score``) but is deprecated.

    Parameters
    ----------
    estimator : SissoRegressor or SissoClassifier, optional
        Template whose parameters (operators, ``max_complexity``, ``n_dim``, ``n_sis``,
        units, ...) every member uses. Default ``SissoRegressor()``.
    n_estimators : int
        Number of members (>= 2).
    bootstrap : bool
        Resample the training rows with replacement for every member.
    feature_dropout : float in [0, 1)
        Each member drops ``round(feature_dropout * n_primary)`` primary features at random.
    calibrate : {None, "sigma", "isotonic"}
        Recalibrate the ensemble spread on out-of-bag residuals (needs ``bootstrap``).
    predictive_std : {"spread", "mixture"}
        ``"spread"``: standard deviation of the member predictions (model uncertainty
        only). ``"mixture"``: standard deviation of the equal-weight mixture of
        ``N(f_k(x), e_k^2)`` with ``e_k`` the out-of-bag RMSE of member ``k``, i.e.
        ``sqrt(mean_k e_k^2 + var_k f_k(x))``; adds the members' own error so that a
        single recalibration factor is well conditioned.
    max_samples : int or float, optional
        Rows per bootstrap sample (float: fraction of ``n_samples``); default all.
    random_state : int, RandomState or None
        All member samples are drawn up front, so results do not depend on ``n_jobs``.
    n_jobs : int, optional
        Parallel members via joblib (honours ``joblib.parallel_config``, e.g. dask).
    batch : {"auto", True, False}
        Fit the regression members in lock-step on a materialised feature space
        (:mod:`sisso_lite.solvers.batch`; identical members, shared matrix-product
        screening). ``"auto"``: when joblib runs one worker and the space fits
        ``max_batch_bytes``; ``True``: whenever it fits; ``False``: never.
    max_batch_bytes : float
        Memory budget of the batched path (materialised space and member score matrices).
    verbose : int
        ``> 0``: a progress bar over the fitted members (per-member path; the batched path
        fits all members at once, ~10 single fits for 100 members).

    Attributes
    ----------
    members_ : list of EnsembleMember
    descriptor_frequency_ : pandas.Series
        Fraction of members whose descriptor contains each feature formula (descending).
    oob_prediction_, oob_std_ : ndarray, shape (n_samples,)
        Out-of-bag mean / spread (NaN for rows out of bag in fewer than 1 / 2 members).
    recalibrator_ : SigmaScaling or IsotonicRecalibration or None
    classes_, oob_proba_ : ndarray
        Classification templates only: class labels and out-of-bag vote fractions.
    feature_names_in_ : ndarray of str
        Column names of ``X`` in ``fit`` (only when they were strings, as in scikit-learn).
    primary_names_ : ndarray of str
        Names of the primary features (``x0, x1, ...`` for arrays).
    n_features_in_ : int
    """

    def __init__(self, estimator=None, n_estimators=100, bootstrap=True, feature_dropout=0.2,
                 calibrate=None, predictive_std="spread", max_samples=None, random_state=None,
                 n_jobs=None, batch="auto", max_batch_bytes=1e9, verbose=0):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.bootstrap = bootstrap
        self.feature_dropout = feature_dropout
        self.calibrate = calibrate
        self.predictive_std = predictive_std
        self.max_samples = max_samples
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.batch = batch
        self.max_batch_bytes = max_batch_bytes
        self.verbose = verbose

    # ------------------------------------------------------------------ validation
    def _template(self):
        if self.estimator is None:
            return SissoRegressor()
        return clone(self.estimator)

    def _check_params(self, n_samples: int, n_primary: int, n_dim: int, intercept: bool):
        if self.predictive_std not in ("spread", "mixture"):
            raise ValueError(
                f"predictive_std must be 'spread' or 'mixture', got {self.predictive_std!r}")
        if self.calibrate is not None:
            make_recalibrator(self.calibrate)  # validates the name
            if not self.bootstrap:
                raise ValueError("calibrate needs bootstrap=True (out-of-bag residuals)")
        return self._check_sampling(n_samples, n_primary, n_dim, intercept)

    # ------------------------------------------------------------------ fit
    def fit(self, X, y):
        """Fit the members, the out-of-bag predictions and the recalibrator.

        Parameters
        ----------
        X : DataFrame or array-like, shape (n_samples, n_primary)
        y : array-like, shape (n_samples,)

        Returns
        -------
        self
        """
        from sisso_lite.features import parse_unit

        est = self._template()
        if is_classifier(est):
            warnings.warn("SissoEnsemble with a classifier template is deprecated; use "
                          "SissoEnsembleClassifier", FutureWarning, stacklevel=2)
            if self.calibrate is not None:
                raise ValueError("calibrate applies to regression ensembles only")
            return self._fit_classifier(est, X, y)
        self.__dict__.pop("classes_", None)
        est._check_params()
        X_arr, y_arr, names = est._validate_fit_input(X, y)
        n_samples, n_primary = X_arr.shape
        n_drop, n_rows, need = self._check_params(n_samples, n_primary, est.n_dim,
                                                  est.fit_intercept)
        plans = self._draw_members(n_samples, np.asarray(names), n_drop, n_rows, need)
        space = est._make_space()
        space.build(X_arr, names, check_units(est.units, names, parse_unit))
        params = dict(n_dim=est.n_dim, n_sis=est.n_sis, n_models=1,
                      metric=str(est.metric).lower(), fit_intercept=est.fit_intercept)
        n_workers = effective_n_jobs(self.n_jobs)  # honours joblib.parallel_config
        masks = [None if not dropped else np.array([n not in dropped for n in names])
                 for _, _, dropped in plans]
        models = None
        if self.batch not in ("auto", True, False):
            raise ValueError(f"batch must be 'auto', True or False, got {self.batch!r}")
        if self.batch is True or (self.batch == "auto" and n_workers == 1):
            models = _fit_batched(space, y_arr, plans, masks, params, self.max_batch_bytes)
        if models is None:
            # members are small problems: one numba thread each avoids thread-pool overhead
            threads = max(1, (os.cpu_count() or 1) // n_workers) if n_workers > 1 else 1
            models = fit_members(
                [delayed(_fit_member)(space, y_arr, rows, mask, params, threads)
                 for (_, rows, _), mask in zip(plans, masks, strict=True)],
                self.n_jobs, self.verbose)
        self.members_ = [
            EnsembleMember(rows=rows, dropped_features=dropped, descriptors=m.descriptors,
                           coefficients=np.asarray(m.coefficients[0], dtype=np.float64).copy(),
                           intercept=float(m.intercept[0]), model=m, seed=seed)
            for (seed, rows, dropped), m in zip(plans, models, strict=True)
        ]
        self._set_input_names(X, names)
        self.n_dim_ = est.n_dim
        self.estimator_ = est
        self.sigma_floor_ = 1e-9 * max(float(np.std(y_arr)), 1e-300)
        self.descriptor_frequency_ = self._frequencies()
        self._fit_oob(X_arr, y_arr)
        return self

    def _fit_oob(self, X_arr: np.ndarray, y: np.ndarray) -> None:
        """Member errors, out-of-bag mean/std and the recalibrator."""
        n = y.size
        preds = self._member_predictions(X_arr)
        oob = np.isfinite(preds)  # undefined member predictions are ignored
        for k, m in enumerate(self.members_):
            oob[k, m.rows] = False
        count = oob.sum(axis=0)
        sq = np.where(oob, preds - y[None, :], 0.0) ** 2
        n_k = oob.sum(axis=1)
        ss_k = np.where(oob, sq, 0.0).sum(axis=1)
        for k, m in enumerate(self.members_):
            m.error = float(np.sqrt(ss_k[k] / n_k[k])) if n_k[k] >= 2 else float(m.model.rmse)
        masked = np.where(oob, preds, np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            mean = np.nanmean(masked, axis=0)
            if self.predictive_std == "spread":
                std = np.nanstd(masked, axis=0, ddof=1)
            else:
                # leave-one-out member error: row i does not inform its own sigma
                loo = (ss_k[:, None] - sq) / np.maximum(n_k[:, None] - 1, 1)
                err2 = np.where(n_k[:, None] >= 3, loo, np.array([m.error for m in
                                                                   self.members_])[:, None] ** 2)
                var = np.nanvar(masked, axis=0) + np.nanmean(np.where(oob, err2, np.nan), axis=0)
                std = np.sqrt(var)
        mean[count < 1] = np.nan
        std[count < 2] = np.nan
        self.oob_prediction_ = mean
        self.oob_std_ = std
        self.oob_count_ = count
        self.recalibrator_ = make_recalibrator(self.calibrate)
        if self.recalibrator_ is None:
            return
        ok = count >= 2
        if ok.sum() < 2:
            raise ValueError(
                "too few out-of-bag predictions to calibrate; increase n_estimators"
            )
        if ok.mean() < 0.5:
            warnings.warn(f"only {ok.sum()} of {n} rows have out-of-bag predictions from >= 2 "
                          "members; calibration may be poor", UserWarning, stacklevel=3)
        sigma = np.maximum(std[ok], self.sigma_floor_)
        self.recalibrator_.fit(y[ok], mean[ok], sigma)

    # ------------------------------------------------------------------ predict
    def _member_predictions(self, X_arr: np.ndarray) -> np.ndarray:
        names = [str(n) for n in self.primary_names_]
        return np.vstack([m.predict(X_arr, names) for m in self.members_])

    def predict_members(self, X) -> np.ndarray:
        """Predictions (class labels for classifiers) of every member, (n_estimators, n)."""
        if getattr(self, "classes_", None) is not None:
            X = self._frame(X)
            return np.vstack([m.model.predict(X[list(m.model.feature_names_in_)])
                              for m in self.members_])
        return self._member_predictions(self._primary(X))

    def predict_uncalibrated(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Ensemble mean and std before recalibration (see ``predictive_std``)."""
        return self._mean_std(X)

    def _mean_std(self, X):
        preds = self.predict_members(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # rows without finite members
            mu = np.nanmean(preds, axis=0)
            if self.predictive_std == "spread":
                sigma = np.nanstd(preds, axis=0, ddof=1)
            else:
                err2 = np.array([m.error**2 for m in self.members_])[:, None]
                err2 = np.nanmean(np.where(np.isfinite(preds), err2, np.nan), axis=0)
                sigma = np.sqrt(np.nanvar(preds, axis=0) + err2)
        return mu, np.maximum(sigma, self.sigma_floor_)

    def predict(self, X, return_std: bool = False):
        """Ensemble mean (and standard deviation, recalibrated if ``calibrate`` is set).

        For ``calibrate="isotonic"`` the returned std is the recalibrator's equivalent
        Gaussian sigma; use :meth:`predict_interval` for exact recalibrated intervals.
        """
        if getattr(self, "classes_", None) is not None:
            if return_std:
                raise ValueError("return_std is for regression ensembles; use predict_proba")
            return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        mu, sigma = self._mean_std(X)
        if not return_std:
            return mu
        if self.recalibrator_ is not None:
            sigma = self.recalibrator_.transform(sigma)
        return mu, sigma

    def predict_interval(self, X, coverage: float = 0.9, *,
                         alpha: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Central prediction interval with nominal ``coverage`` (0.9: the 5-95 % interval).

        Gaussian ``mu -/+ z sigma`` from the member spread, or the recalibrated interval
        when ``calibrate`` is set. Returns ``(lower, upper)``.

        ``alpha`` is the deprecated name of ``coverage`` (it meant the coverage, the
        reverse of MAPIE's ``alpha`` = miscoverage); it warns and will be removed.
        """
        if alpha is not None:
            warnings.warn("predict_interval(alpha=...) is deprecated: it meant the coverage; "
                          "use coverage=", FutureWarning, stacklevel=2)
            coverage = alpha
        coverage = _check_level(coverage)
        mu, sigma = self._mean_std(X)
        if self.recalibrator_ is not None:
            return self.recalibrator_.interval(mu, sigma, coverage)
        half = stats.norm.ppf(0.5 + coverage / 2.0) * sigma
        return mu - half, mu + half

    def score(self, X, y, sample_weight=None) -> float:
        """R^2 of the ensemble mean (accuracy for a deprecated classifier template)."""
        if getattr(self, "classes_", None) is not None:
            from sklearn.metrics import accuracy_score

            return float(accuracy_score(y, self.predict(X), sample_weight=sample_weight))
        return super().score(X, y, sample_weight=sample_weight)

    @available_if(_classifier_template)
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities = fraction of member votes (SissoClassifier templates)."""
        check_is_fitted(self, "classes_")
        return self._votes(self._frame(X), np.ones((len(self.members_), len(X)), dtype=bool))

    # ------------------------------------------------------------------ classification
