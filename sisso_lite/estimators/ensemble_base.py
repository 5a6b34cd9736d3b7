"""What the SISSO ensembles share: member sampling, descriptor frequencies, input checks.

:class:`~sisso_lite.estimators.ensemble.SissoEnsemble` (regression) and
:class:`~sisso_lite.estimators.ensemble_classifier.SissoEnsembleClassifier` both draw their
members here: a bootstrap sample of the rows (class-stratified for classifiers) and a random
set of dropped primary features per member, all drawn up front from ``random_state`` so the
members do not depend on ``n_jobs``.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from joblib import Parallel
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from sisso_lite._validation import check_finite
from sisso_lite.estimators._validation import check_integer
from sisso_lite.features.distributed import dask_client, run_on_dask

__all__ = ["EnsembleBase"]


def fit_members(jobs: list, n_jobs, verbose) -> list:
    """Run the member jobs with joblib; a progress bar over finished members if ``verbose``.

    Results come back in job order either way (joblib's ordered generator), so the members
    do not depend on ``verbose`` or ``n_jobs``.
    """
    client = dask_client()  # joblib's Dask backend: submitted directly (worker loss, see there)
    if client is not None:
        what = f"fitting {len(jobs)} ensemble members"
        if not verbose:
            return run_on_dask(client, jobs, what)
        with tqdm(total=len(jobs), desc="ensemble members", unit="member") as bar:
            return run_on_dask(client, jobs, what, progress=bar)
    if not verbose:
        return Parallel(n_jobs=n_jobs)(jobs)
    done = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    return list(tqdm(done, total=len(jobs), desc="ensemble members", unit="member"))


def has_string_columns(X) -> bool:
    """A DataFrame whose column names are all strings (scikit-learn's feature names)."""
    return isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns)


class EnsembleBase(BaseEstimator):
    """Member sampling and input handling of the SISSO ensembles (not an estimator itself).

    Subclasses define ``__init__`` with at least ``estimator, n_estimators, bootstrap,
    feature_dropout, max_samples, random_state, n_jobs``.
    """

    def _check_sampling(self, n_samples: int, n_primary: int, n_dim: int, intercept: bool):
        """Dropped features per member, rows per member and the rows a member needs."""
        check_integer("n_estimators", self.n_estimators, 2)
        fd = self.feature_dropout
        if not isinstance(fd, numbers.Real) or not 0.0 <= fd < 1.0:
            raise ValueError(f"feature_dropout must be in [0, 1), got {fd!r}")
        n_drop = int(round(fd * n_primary))
        if n_primary - n_drop < 1:
            raise ValueError(
                f"feature_dropout={fd} drops {n_drop} of {n_primary} primary features and "
                "leaves none; lower feature_dropout"
            )
        if not self.bootstrap and n_drop == 0:
            raise ValueError("bootstrap=False with no feature dropout gives identical members")
        m = self.max_samples
        if m is None:
            n_rows = n_samples
        elif isinstance(m, numbers.Integral) and not isinstance(m, bool):
            n_rows = int(m)
        elif isinstance(m, numbers.Real) and 0.0 < m <= 1.0:
            n_rows = int(round(m * n_samples))
        else:
            raise ValueError(f"max_samples must be an int or a float in (0, 1], got {m!r}")
        need = n_dim + 1 + int(intercept)
        if n_rows < need:
            raise ValueError(
                f"bootstrap samples of {n_rows} rows are too small for a {n_dim}-dimensional "
                f"descriptor{' with intercept' if intercept else ''}: need at least {need} rows"
            )
        return n_drop, n_rows, need

    def _draw_members(self, n_samples, names, n_drop, n_rows, need, strata=None):
        """Rows, dropped features and seed of every member (drawn up front).

        With ``strata`` (class labels) full-size bootstrap samples are drawn per class.
        """
        rs = check_random_state(self.random_state)
        seeds = rs.randint(0, np.iinfo(np.int32).max, size=self.n_estimators)
        plans = []
        for k, seed in enumerate(seeds):
            rng = np.random.default_rng(int(seed))
            if self.bootstrap and strata is not None and n_rows == n_samples:
                rows = np.sort(np.concatenate([rng.choice(np.flatnonzero(strata == c),
                                                          np.sum(strata == c))
                                               for c in np.unique(strata)]))
            elif self.bootstrap:
                rows = np.sort(rng.integers(0, n_samples, size=n_rows))
                # small data: redraw a sample with too few distinct rows to fit a descriptor
                # (members that fitted before are drawn exactly as before)
                for _ in range(1000):
                    if np.unique(rows).size >= need or min(n_rows, n_samples) < need:
                        break
                    rows = np.sort(rng.integers(0, n_samples, size=n_rows))
            elif n_rows < n_samples:
                rows = np.sort(rng.choice(n_samples, size=n_rows, replace=False))
            else:
                rows = np.arange(n_samples)
            if np.unique(rows).size < need:
                raise ValueError(
                    f"bootstrap sample of member {k} has only {np.unique(rows).size} distinct "
                    f"rows; a descriptor of this dimension needs at least {need}"
                )
            dropped = tuple(sorted(rng.choice(names, size=n_drop, replace=False).tolist()))
            plans.append((int(seed), rows, dropped))
        return plans

    def _frequencies(self) -> pd.Series:
        counts: dict[str, int] = {}
        for m in self.members_:
            for d in set(m.descriptors):
                counts[d] = counts.get(d, 0) + 1
        freq = pd.Series(counts, dtype=np.float64, name="frequency") / len(self.members_)
        freq.index.name = "descriptor"
        return freq.sort_values(ascending=False, kind="stable")

    def _set_input_names(self, X, names) -> None:
        """``primary_names_`` always; ``feature_names_in_`` only for named columns (sklearn)."""
        self.primary_names_ = np.asarray(names, dtype=object)
        self.n_features_in_ = len(names)
        if has_string_columns(X):
            self.feature_names_in_ = np.asarray(names, dtype=object)
        else:
            self.__dict__.pop("feature_names_in_", None)

    def _primary(self, X) -> np.ndarray:
        check_is_fitted(self, "members_")
        names = [str(n) for n in self.primary_names_]
        if has_string_columns(X):
            missing = [n for n in names if n not in {str(c) for c in X.columns}]
            if missing:
                raise ValueError(f"X lacks the primary feature(s) {missing}")
            X = X[names]
        arr = np.asarray(X, dtype=np.float64)
        if arr.ndim != 2:
            raise ValueError(f"Expected a 2D array of shape (n_samples, {len(names)}), got shape "
                             f"{arr.shape}. Reshape your data, e.g. with X.reshape(1, -1) for a "
                             "single sample.")
        if arr.shape[1] != len(names):
            raise ValueError(f"X has {arr.shape[1]} features, but {type(self).__name__} is "
                             f"expecting {len(names)} features as input")
        check_finite(arr, names, "X")
        return arr

