"""``SissoCV``: cross-validated choice of the descriptor dimension and the rung.

Every fold refits the whole SISSO (SIS screening and L0 search) on its training rows only, so
the selection of the descriptor is inside the fold and the test error carries no selection
leak. One fit of dimension ``D`` yields the best model of every dimension ``d <= D``
(SISSO adds one screened subspace per dimension), so one fit per (fold, max complexity)
scores all dimensions. The chosen setting follows the one-standard-error rule: the simplest
(fewest terms, then lowest rung) whose mean CV error is within one standard error of the
best mean (Hastie, Tibshirani, Friedman, *The Elements of Statistical Learning*, 2nd ed.,
Springer 2009, sec. 7.10). SISSO: Ouyang et al., Phys. Rev. Materials 2, 083802 (2018);
cross-validated dimension selection as in SISSO++: Purcell et al., J. Open Source Softw. 7,
3960 (2022).
"""

from __future__ import annotations

import time
from collections import Counter
from numbers import Integral

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.model_selection import KFold, StratifiedKFold, check_cv
from sklearn.utils import _safe_indexing
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from sisso_lite.estimators._validation import check_units
from sisso_lite.estimators.regressor import SissoRegressor

__all__ = ["SissoCV"]


def _canonical(descriptors) -> str:
    """Descriptor as one string, independent of the order of its terms."""
    return " ; ".join(sorted(str(d) for d in descriptors))


def _regression_scores(predict, y_te, y_tr, predict_train):
    with np.errstate(all="ignore"):
        test = float(np.sqrt(np.mean((predict - y_te) ** 2)))
        train = float(np.sqrt(np.mean((predict_train - y_tr) ** 2)))
    return test, train


def _fold_shared_space(space, y, X_arr, names, train, test, dims, params, threads):
    """One regression fold on a feature space built once for all folds."""
    from sisso_lite._threads import numba_threads
    from sisso_lite.solvers.driver import run_sisso

    with numba_threads(threads):
        result = run_sisso(space, y, rows=train, **params)
    out = []
    for d in dims:
        model = result.best(min(d, result.n_dim))
        with np.errstate(all="ignore"):
            p_te = model.predict_array(X_arr[test], None, names)
            p_tr = model.predict_array(X_arr[train], None, names)
        out.append((d, model.dimension, _canonical(model.descriptors),
                    *_regression_scores(p_te, y[test], y[train], p_tr)))
    return out


def _fold_refit(estimator, X, y, train, test, dims, classifier):
    """One fold: fit a clone on the training rows, score every dimension on the test rows."""
    X_tr, X_te = _safe_indexing(X, train), _safe_indexing(X, test)
    y_tr, y_te = np.asarray(y)[train], np.asarray(y)[test]
    fitted = clone(estimator).fit(X_tr, y_tr)
    out = []
    if not classifier:
        for d in dims:
            dd = min(d, fitted.n_dim_)
            model = fitted.result_.best(dd)
            out.append((d, dd, _canonical(model.descriptors),
                        *_regression_scores(fitted.predict(X_te, dim=dd), y_te, y_tr,
                                            fitted.predict(X_tr, dim=dd))))
        return out
    from sisso_lite.estimators._decision_rule import codes_from_decision, fit_standardized_rule
    from sisso_lite.estimators.classifier import _values

    A_tr = np.asarray(X_tr, dtype=np.float64)
    A_te = np.asarray(X_te, dtype=np.float64)
    codes = np.searchsorted(fitted.classes_, y_tr)
    k = len(fitted.classes_)
    for d in dims:
        dd = min(d, fitted.n_dim_)
        exprs = fitted.descriptors_by_dim_[dd]
        rule = fit_standardized_rule(_values(exprs, A_tr), codes, k, None,
                                     fitted._rule_params())
        acc = []
        for A, truth in ((A_te, y_te), (A_tr, y_tr)):
            pred = fitted.classes_[codes_from_decision(rule.decision(_values(exprs, A)))]
            acc.append(float(np.mean(pred == truth)))
        out.append((d, dd, _canonical(str(e) for e in exprs), acc[0], acc[1]))
    return out


def _estimator_has(attr: str):
    """``available_if`` check: the (fitted or template) estimator has ``attr``."""

    def check(self) -> bool:
        est = getattr(self, "best_estimator_", None)
        est = SissoRegressor() if est is None and self.estimator is None else (
            est if est is not None else self.estimator)
        return hasattr(est, attr)

    return check


class SissoCV(MetaEstimatorMixin, BaseEstimator):
    """Cross-validated selection of ``n_dim`` and ``max_complexity`` of a SISSO estimator.

    Parameters
    ----------
    estimator : SissoRegressor or SissoClassifier, optional
        Template (default ``SissoRegressor()``); its other parameters are kept.
    n_dims : sequence of int, optional
        Dimensions to compare (default ``1 .. estimator.n_dim``); each in
        ``1 .. estimator.n_dim``.
    max_complexities : sequence of int, optional
        Rungs to compare (default ``(estimator.max_complexity,)``).
    cv : int, cross-validation generator or iterable
        An int: ``KFold(cv, shuffle=True)`` (``StratifiedKFold`` for classifiers) seeded by
        ``random_state``. Or any scikit-learn splitter: ``RepeatedKFold``, ``GroupKFold``,
        ``LeaveOneGroupOut``, :class:`~sisso_lite.estimators.splits.LeaveElementOut`,
        :class:`~sisso_lite.estimators.splits.CompositionClusterSplit` (``groups`` in
        :meth:`fit`).
    rule : {"1se", "best"}
        ``"1se"``: the simplest setting within one standard error (std over folds /
        sqrt(n_folds)) of the best mean score; ``"best"``: the best mean score.
    reuse_space : bool
        Regression only: build the feature space once per rung on all rows of ``X`` and run
        SIS + L0 on each fold's training rows (the screening normalises on those rows).
        The space's value filter (``max_abs_value`` / ``min_abs_value``) then sees the test
        rows' features, never their targets. ``False``: a clone of ``estimator`` is fitted
        per fold from scratch.
    refit : bool
        Fit ``best_estimator_`` on all data with the chosen setting.
    n_jobs : int, optional
        joblib workers over the folds (``None``: 1).
    random_state : int, RandomState or None
        Seed of the default ``KFold``.
    verbose : int
        > 0: a progress bar over the fits; > 1: also the estimators' own bars.

    Attributes
    ----------
    cv_results_ : DataFrame
        One row per ``(max_complexity, n_dim)``: ``mean_test_<m>, std_test_<m>,
        sem_test_<m>, split<k>_test_<m>, mean_train_<m>`` (``m`` = ``rmse`` for
        regression, ``accuracy`` for classification), ``rank_test_<m>``, ``descriptors``
        (the descriptor of each fold, terms sorted and ``" ; "``-joined),
        ``modal_descriptor`` and ``modal_frequency`` (share of the folds that found it),
        ``fitted_dim`` (smallest dimension a fold actually reached; below ``n_dim`` when
        SIS ran out or a classifier resolved all samples earlier, then the lower model
        counts).
    best_params_ : dict
        ``{"n_dim": .., "max_complexity": ..}`` chosen by ``rule``.
    best_index_ : int
        Row of ``cv_results_``.
    best_score_ : float
        Mean CV score of that row (RMSE or accuracy).
    best_estimator_ : estimator
        Refit on all data (if ``refit``).
    n_splits_ : int
    scoring_ : {"rmse", "accuracy"}
    cv_time_ : float
        Wall seconds of the cross-validation (without the refit).

    Notes
    -----
    Multi-task fits (``tasks``) are not cross-validated by this class. With repeated CV the
    folds are not independent, so the standard error of the 1-SE rule is optimistic.
    """

    def __init__(self, estimator=None, n_dims=None, max_complexities=None, cv=5, rule="1se",
                 reuse_space=True, refit=True, n_jobs=None, random_state=None, verbose=0):
        self.estimator = estimator
        self.n_dims = n_dims
        self.max_complexities = max_complexities
        self.cv = cv
        self.rule = rule
        self.reuse_space = reuse_space
        self.refit = refit
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ checks
    def _template(self):
        est = SissoRegressor() if self.estimator is None else self.estimator
        if not hasattr(est, "get_params") or "n_dim" not in est.get_params():
            raise ValueError("estimator must be a SissoRegressor or SissoClassifier, got "
                             f"{type(est).__name__}")
        est = clone(est)
        if int(self.verbose) < 2 and "verbose" in est.get_params():
            est.set_params(verbose=False)
        return est

    def _settings(self, est) -> tuple[list[int], list[int]]:
        max_dim = int(est.n_dim)
        dims = list(range(1, max_dim + 1)) if self.n_dims is None else self.n_dims
        comps = [est.max_complexity] if self.max_complexities is None else self.max_complexities
        for name, values, low in (("n_dims", dims, 1), ("max_complexities", comps, 0)):
            values = list(np.atleast_1d(values))
            if not values or any(not isinstance(v, Integral | np.integer) or v < low
                                 for v in values):
                raise ValueError(f"{name} must be a non-empty sequence of integers >= {low}, "
                                 f"got {values!r}")
        dims = sorted({int(d) for d in np.atleast_1d(dims)})
        if dims[-1] > max_dim:
            raise ValueError(f"n_dims={dims} goes beyond the estimator's n_dim={max_dim}; "
                             f"raise estimator.n_dim or drop the dimensions > {max_dim}")
        return dims, sorted({int(c) for c in np.atleast_1d(comps)})

    def _splits(self, X, y, groups, classifier: bool, need: int):
        n = len(y)
        if self.rule not in ("1se", "best"):
            raise ValueError(f"rule must be '1se' or 'best', got {self.rule!r}")
        if groups is not None:
            groups = np.asarray(groups, dtype=object) if not isinstance(groups, np.ndarray) \
                else groups
            if len(groups) != n:
                raise ValueError(f"groups has {len(groups)} entries but X has {n} rows")
            if len({g if isinstance(g, str | int | float) else repr(g) for g in groups}) < 2:
                raise ValueError("groups has a single group: leave-group-out needs at least "
                                 "two groups")
        if isinstance(self.cv, Integral) and not isinstance(self.cv, bool):
            if not 2 <= self.cv <= n:
                raise ValueError(f"cv={self.cv} folds is invalid for {n} samples: need "
                                 f"2 <= cv <= n_samples")
            if classifier:
                counts = np.unique(np.asarray(y), return_counts=True)[1]
                if self.cv > counts.min():
                    raise ValueError(f"cv={self.cv} folds is more than the {counts.min()} "
                                     "samples of the smallest class")
                cv = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
            else:
                cv = KFold(self.cv, shuffle=True, random_state=self.random_state)
        else:
            cv = check_cv(self.cv, y, classifier=classifier)
        folds = [(np.asarray(tr), np.asarray(te)) for tr, te in cv.split(X, y, groups)]
        if len(folds) < 2:
            raise ValueError(f"cv gives {len(folds)} split(s); need at least 2")
        for k, (tr, te) in enumerate(folds):
            if len(te) == 0 or len(tr) < need:
                raise ValueError(f"cv split {k} has {len(tr)} training / {len(te)} test rows; "
                                 f"every split needs >= {need} training rows (n_dim + "
                                 "intercept) and >= 1 test row")
        return folds

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, groups=None):
        """Cross-validate every ``(max_complexity, n_dim)`` and pick one.

        Parameters
        ----------
        X : DataFrame or array-like, shape (n_samples, n_features)
        y : array-like, shape (n_samples,)
        groups : array-like, shape (n_samples,), optional
            Group labels (or compositions, for the splitters of
            :mod:`sisso_lite.estimators.splits`) passed to ``cv.split``.

        Returns
        -------
        self
        """
        est = self._template()
        classifier = is_classifier(est)
        dims, comps = self._settings(est)
        X_arr, y_arr = validate_data(self, X, y, y_numeric=not classifier, dtype=np.float64,
                                     ensure_min_samples=2)
        if classifier:
            check_classification_targets(y_arr)
        if not isinstance(X, pd.DataFrame):
            X = X_arr  # a DataFrame keeps its column names for the fold fits
        need = dims[-1] + int(bool(getattr(est, "fit_intercept", True))) + 1
        folds = self._splits(X, y_arr, groups, classifier, need)
        self.n_splits_ = len(folds)
        self.scoring_ = "accuracy" if classifier else "rmse"
        t0 = time.perf_counter()
        raw = self._run_folds(est, X, y_arr, folds, dims, comps, classifier)
        self.cv_results_ = self._table(raw, dims, comps)
        self.best_index_ = self._choose(self.cv_results_)
        row = self.cv_results_.iloc[self.best_index_]
        self.best_params_ = {"n_dim": int(row["n_dim"]),
                             "max_complexity": int(row["max_complexity"])}
        self.best_score_ = float(row[f"mean_test_{self.scoring_}"])
        self.cv_time_ = time.perf_counter() - t0
        if self.refit:
            self.best_estimator_ = clone(est).set_params(**self.best_params_).fit(X, y_arr)
            if hasattr(self.best_estimator_, "classes_"):
                self.classes_ = self.best_estimator_.classes_
        return self

    def _run_folds(self, est, X, y, folds, dims, comps, classifier):
        from tqdm import tqdm  # plain bar: no ipywidgets warning in notebooks

        bar = tqdm(total=len(folds) * len(comps), desc="SissoCV", unit="fit",
                   disable=int(self.verbose) < 1)
        raw: dict[tuple[int, int], list] = {}
        n_jobs = 1 if self.n_jobs is None else self.n_jobs
        try:
            for c in comps:
                est_c = clone(est).set_params(max_complexity=c, n_dim=dims[-1])
                if not classifier and self.reuse_space:
                    jobs = self._shared_space_jobs(est_c, X, y, folds, dims)
                else:
                    jobs = [delayed(_fold_refit)(est_c, X, y, tr, te, dims, classifier)
                            for tr, te in folds]
                results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
                for k, res in enumerate(results):
                    raw[(c, k)] = res
                    bar.update(1)
        finally:
            bar.close()
        return raw

    def _shared_space_jobs(self, est, X, y, folds, dims):
        from sisso_lite.features import parse_unit

        est._check_params()
        X_arr, y_arr, names = est._validate_fit_input(X, y)
        space = est._make_space()
        space.build(X_arr, names, check_units(est.units, names, parse_unit))
        params = dict(n_dim=dims[-1], n_sis=est.n_sis, n_models=1,
                      metric=str(est.metric).lower(), fit_intercept=est.fit_intercept)
        threads = est.n_jobs if self.n_jobs in (None, 1) else 1
        return [delayed(_fold_shared_space)(space, y_arr, X_arr, names, tr, te, dims, params,
                                            threads) for tr, te in folds]

    def _table(self, raw, dims, comps) -> pd.DataFrame:
        m = self.scoring_
        rows = []
        for c in comps:
            per_dim: dict[int, list] = {d: [] for d in dims}
            for k in range(self.n_splits_):
                for d, dd, desc, test, train in raw[(c, k)]:
                    per_dim[d].append((dd, desc, test, train))
            for d in dims:
                entries = per_dim[d]
                test = np.array([e[2] for e in entries])
                train = np.array([e[3] for e in entries])
                descs = [e[1] for e in entries]
                modal, count = Counter(descs).most_common(1)[0]
                std = float(np.std(test))
                row = {"max_complexity": c, "n_dim": d, f"mean_test_{m}": float(np.mean(test)),
                       f"std_test_{m}": std, f"sem_test_{m}": std / np.sqrt(len(test)),
                       f"mean_train_{m}": float(np.mean(train))}
                row.update({f"split{k}_test_{m}": float(v) for k, v in enumerate(test)})
                row.update({"descriptors": descs, "modal_descriptor": modal,
                            "modal_frequency": count / len(descs),
                            "fitted_dim": int(min(e[0] for e in entries))})
                rows.append(row)
        table = pd.DataFrame(rows)
        score = table[f"mean_test_{m}"]
        order = score if m == "rmse" else -score
        table[f"rank_test_{m}"] = order.rank(method="min").astype(int)
        return table

    def _choose(self, table: pd.DataFrame) -> int:
        m = self.scoring_
        mean = table[f"mean_test_{m}"].to_numpy()
        sem = table[f"sem_test_{m}"].to_numpy()
        lower_is_better = m == "rmse"
        finite = np.isfinite(mean)
        if not finite.any():
            raise ValueError("every CV score is non-finite (the models diverge on test rows)")
        best = int(np.nanargmin(np.where(finite, mean, np.inf)) if lower_is_better
                   else np.nanargmax(np.where(finite, mean, -np.inf)))
        if self.rule == "best":
            return best
        if lower_is_better:
            ok = finite & (mean <= mean[best] + sem[best])
        else:
            ok = finite & (mean >= mean[best] - sem[best])
        # simplest first: fewest terms, then the lowest rung
        candidates = table[ok].sort_values(["n_dim", "max_complexity"])
        return int(candidates.index[0])

    # ------------------------------------------------------------------ delegation
    def predict(self, X, **kwargs):
        """Predictions of ``best_estimator_``."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X, **kwargs)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X, **kwargs):
        """Class probabilities of ``best_estimator_`` (classifiers)."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_proba(X, **kwargs)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X, **kwargs):
        """Decision function of ``best_estimator_`` (classifiers)."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.decision_function(X, **kwargs)

    def score(self, X, y, sample_weight=None):
        """``best_estimator_.score`` (R^2 for regression, accuracy for classification)."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = self._template() if self.estimator is not None else SissoRegressor()
        inner_tags = inner.__sklearn_tags__()
        tags.estimator_type = inner_tags.estimator_type
        tags.input_tags.allow_nan = False
        tags.target_tags = inner_tags.target_tags
        if inner_tags.classifier_tags is not None:
            tags.classifier_tags = inner_tags.classifier_tags
        if inner_tags.regressor_tags is not None:
            tags.regressor_tags = inner_tags.regressor_tags
        return tags

    # ------------------------------------------------------------------ plot
    def plot(self, ax=None):
        """CV score (mean +- one standard error) against the dimension, one line per rung.

        The training score is dashed; the chosen setting is circled.

        Returns
        -------
        matplotlib Axes
        """
        import matplotlib.pyplot as plt

        check_is_fitted(self, "cv_results_")
        m = self.scoring_
        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        for c, part in self.cv_results_.groupby("max_complexity"):
            line = ax.errorbar(part["n_dim"], part[f"mean_test_{m}"],
                               yerr=part[f"sem_test_{m}"], marker="o", capsize=3,
                               label=f"CV, rung {c}")
            ax.plot(part["n_dim"], part[f"mean_train_{m}"], ls="--",
                    color=line[0].get_color(), alpha=0.6, label=f"train, rung {c}")
        best = self.cv_results_.iloc[self.best_index_]
        ax.scatter([best["n_dim"]], [best[f"mean_test_{m}"]], s=180, facecolors="none",
                   edgecolors="k", zorder=5, label=f"chosen ({self.rule})")
        ax.set_xlabel("descriptor dimension")
        ax.set_ylabel("RMSE" if m == "rmse" else "accuracy")
        ax.set_xticks(sorted(self.cv_results_["n_dim"].unique()))
        ax.legend(fontsize=8)
        return ax
