"""scikit-learn style subgroup discovery estimator."""

from __future__ import annotations

import json
import math
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import NotFittedError

from .quality import QualityFunction, get_quality
from .rules import Rule
from .search import Problem, beam_search, diverse_top_k, search_exact
from .selectors import as_frame, make_selectors, selector_masks

__all__ = ["SubgroupDiscovery"]

_FORMAT = "sisso_lite.subgroups/1"
_COLUMNS = ["rule", "query", "n_selectors", "size", "coverage", "quality",
            "mean_in", "median_in", "std_in", "mean_out", "median_out", "std_out"]


def _stats(v: np.ndarray) -> tuple[float, float, float]:
    if v.size == 0:
        return math.nan, math.nan, math.nan
    return float(np.mean(v)), float(np.median(v)), float(np.std(v))


class _Progress:
    """A tqdm bar advanced from the search (thread-safe), or nothing when not ``verbose``.

    ``advance`` is None when silent, so the search does not even count."""

    def __init__(self, verbose, total: int, desc: str, unit: str) -> None:
        self.bar = None
        self.advance = None
        if int(verbose) >= 1:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=int(total), desc=desc, unit=unit)
            self._lock = threading.Lock()
            self.advance = self._advance

    def _advance(self, n: int) -> None:
        if n:
            with self._lock:
                self.bar.update(n)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()


class SubgroupDiscovery(TransformerMixin, BaseEstimator):
    """Subgroup discovery: Boolean rules selecting rows where the target is exceptional.

    Parameters
    ----------
    quality : str or QualityFunction
        ``"mean_shift"``, ``"wracc"``, ``"median_shift"``, ``"normalized_mean_shift"``,
        ``"dispersion_corrected"``, ``"cjs"``, ``"error_reduction"`` (``y`` = residuals)
        or a :class:`~sisso_lite.subgroups.quality.QualityFunction` instance.
    depth : int
        Maximum number of conditions per rule.
    n_cutpoints : int
        Cut points per numeric feature.
    top_k : int
        Number of rules returned.
    search : {"exact", "beam"}
        Best-first branch-and-bound (true top-k) or beam search.
    min_coverage : int or float
        Minimum subgroup size: rows if >= 1, fraction of rows if in (0, 1).
    max_overlap : float, optional
        Skip rules whose Jaccard similarity of members with a better returned rule
        exceeds this value (exact greedy selection over the quality ranking).
    a : float
        Coverage exponent of the quality function.
    direction : str, optional
        Quality direction (``"greater"``/``"less"``/``"both"``; ``"positive"``/
        ``"negative"`` for normalized mean shift; loss for error reduction).
    discretization : {"quantile", "kmeans"}
        Cut point method.
    intervals : bool
        Also use interval selectors between consecutive cut points.
    beam_width : int
        Beam width for ``search="beam"``.
    dedupe : bool
        Count each member set once (shortest description kept).
    allow_constant : bool
        Skip constant / all-missing columns instead of raising ``ValueError``.
    n_jobs : int, optional
        Threads for the exact search (joblib).
    verbose : int or bool
        ``>= 1``: a tqdm progress bar (stderr) over the top-level branches of the exact
        search (first selectors: expanded, or pruned by the bound) or over the levels of
        the beam search. The rules found do not depend on it. Default 0: silent.
    """

    # scikit-learn's parameter validation; the other parameters are checked in _validate
    _parameter_constraints: dict = {"verbose": ["verbose"]}

    def __init__(self, quality: str | QualityFunction = "mean_shift", depth: int = 3,
                 n_cutpoints: int = 10, top_k: int = 10, search: str = "exact",
                 min_coverage: float = 1, max_overlap: float | None = None, a: float = 1.0,
                 direction: str | None = None, discretization: str = "quantile",
                 intervals: bool = False, beam_width: int = 20, dedupe: bool = True,
                 allow_constant: bool = False, n_jobs: int | None = None,
                 verbose: int = 0) -> None:
        self.quality = quality
        self.depth = depth
        self.n_cutpoints = n_cutpoints
        self.top_k = top_k
        self.search = search
        self.min_coverage = min_coverage
        self.max_overlap = max_overlap
        self.a = a
        self.direction = direction
        self.discretization = discretization
        self.intervals = intervals
        self.beam_width = beam_width
        self.dedupe = dedupe
        self.allow_constant = allow_constant
        self.n_jobs = n_jobs
        self.verbose = verbose

    # ------------------------------------------------------------------ fitting
    def _validate(self) -> QualityFunction:
        self._validate_params()
        if not isinstance(self.depth, (int, np.integer)) or self.depth < 1:
            raise ValueError(f"depth must be an integer >= 1, got {self.depth!r}")
        if not isinstance(self.top_k, (int, np.integer)) or self.top_k < 1:
            raise ValueError(f"top_k must be an integer >= 1, got {self.top_k!r}")
        if self.search not in ("exact", "beam"):
            raise ValueError(f"search must be 'exact' or 'beam', got {self.search!r}")
        if self.max_overlap is not None and not 0 <= self.max_overlap <= 1:
            raise ValueError(f"max_overlap must be in [0, 1], got {self.max_overlap!r}")
        if self.min_coverage is None or not self.min_coverage > 0:
            raise ValueError(f"min_coverage must be > 0, got {self.min_coverage!r}")
        qf = get_quality(self.quality, self.a, self.direction)
        if self.search == "exact" and not qf.has_estimator:
            raise ValueError("quality function has no optimistic estimator, which "
                             "search='exact' requires; pass an estimator or use search='beam'")
        return qf

    def fit(self, X: Any, y: Any, feature_names: list[str] | None = None) -> SubgroupDiscovery:
        """Find the top rules.

        Parameters
        ----------
        X : DataFrame or array-like, shape (n_samples, n_features)
        y : array-like, shape (n_samples,)
            Target (binary 0/1 for ``"wracc"``, residuals for ``"error_reduction"``).
        feature_names : list of str, optional
            Column names when ``X`` is an array.
        """
        qf = self._validate()
        df = as_frame(X, feature_names)
        if df.shape[0] == 0:
            raise ValueError("empty data: X has no rows")
        y_arr = np.asarray(y, dtype=float).ravel()
        if y_arr.size != df.shape[0]:
            raise ValueError(f"X has {df.shape[0]} rows but y has {y_arr.size} values")
        if np.isnan(y_arr).any():
            raise ValueError(f"target y contains {int(np.isnan(y_arr).sum())} NaN value(s)")
        if not np.isfinite(y_arr).all():
            raise ValueError("target y contains infinite values")
        sels = make_selectors(df, n_cutpoints=self.n_cutpoints, method=self.discretization,
                              intervals=self.intervals, allow_constant=self.allow_constant)
        if not sels:
            raise ValueError("no selectors could be built from X")
        n = df.shape[0]
        mc = self.min_coverage
        min_size = int(math.ceil(mc * n)) if mc < 1 else int(mc)
        z = qf.fit(y_arr)
        names = list(df.columns)
        feat = np.array([names.index(s.feature) for s in sels])
        masks = selector_masks(sels, df)
        pb = Problem(masks, feat, z, qf, max(1, min_size))
        results = self._run(pb)
        self.feature_names_in_ = np.array(names, dtype=object)
        self.n_features_in_ = len(names)
        self.selectors_ = sels
        self.quality_ = qf
        self.rules_ = [Rule(tuple(sels[j] for j in r.selectors)) for r in results]
        self.subgroups_ = self._table(masks, y_arr, results)
        return self

    def _run(self, pb: Problem):
        k = int(self.top_k)
        if self.search == "beam":
            with _Progress(self.verbose, int(self.depth), "subgroups (beam)", "level") as pr:
                res = beam_search(pb, int(self.depth),
                                  k if self.max_overlap is None else 10 * k, self.beam_width,
                                  self.dedupe, progress=pr.advance)  # fmt: skip
            return res if self.max_overlap is None else diverse_top_k(pb, res, k,
                                                                      self.max_overlap)
        if self.max_overlap is None:
            return self._exact(pb, k)
        pool = max(4 * k, k + 20)
        while True:
            res = self._exact(pb, pool)
            chosen = diverse_top_k(pb, res, k, self.max_overlap)
            if len(chosen) == k or len(res) < pool or pool >= 20000:
                return chosen
            pool *= 4

    def _exact(self, pb: Problem, top_k: int):
        with _Progress(self.verbose, pb.n_selectors, "subgroups (exact)", "branch") as pr:
            return search_exact(pb, int(self.depth), top_k, self.dedupe, self.n_jobs,
                                progress=pr.advance)

    def _table(self, masks: np.ndarray, y: np.ndarray, results) -> pd.DataFrame:
        rows = []
        for rule, r in zip(self.rules_, results, strict=True):
            m = np.logical_and.reduce(masks[list(r.selectors)], axis=0)
            rows.append([str(rule), rule.query(), len(rule.selectors), int(m.sum()),
                         float(m.mean()), r.quality, *_stats(y[m]), *_stats(y[~m])])
        return pd.DataFrame(rows, columns=_COLUMNS)

    # ------------------------------------------------------------------ using rules
    def _check_fitted(self) -> None:
        if not hasattr(self, "rules_"):
            raise NotFittedError("this SubgroupDiscovery instance is not fitted yet; call fit")

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the :meth:`transform` columns: the rules, best first (``str(rule)``)."""
        self._check_fitted()
        return np.array([str(r) for r in self.rules_], dtype=object)

    def transform(self, X: Any) -> np.ndarray:
        """Membership matrix, shape (n_samples, n_rules), dtype bool.

        Columns follow ``rules_`` (best first) and are named by
        :meth:`get_feature_names_out`; ``set_output(transform="pandas")`` returns a
        DataFrame with the rules as columns.
        """
        self._check_fitted()
        names = None if isinstance(X, pd.DataFrame) else list(self.feature_names_in_)
        df = as_frame(X, names)
        if not self.rules_:
            return np.zeros((len(df), 0), dtype=bool)
        return np.column_stack([r.covers(df) for r in self.rules_])

    def predict(self, X: Any) -> np.ndarray:
        """Membership of the best rule, shape (n_samples,), dtype bool."""
        self._check_fitted()
        if not self.rules_:
            raise ValueError("no rule was found; nothing to predict with")
        names = None if isinstance(X, pd.DataFrame) else list(self.feature_names_in_)
        return self.rules_[0].covers(as_frame(X, names))

    # ------------------------------------------------------------------ JSON
    def _payload(self) -> dict:
        self._check_fitted()
        params = {k: v for k, v in self.get_params().items() if k != "quality"}
        return {
            "format": _FORMAT,
            "params": params,
            "quality": self.quality_.to_dict(),
            "feature_names": [str(f) for f in self.feature_names_in_],
            "rules": [r.to_dict() for r in self.rules_],
            "subgroups": json.loads(self.subgroups_.to_json(orient="records")),
        }

    def to_json(self, path: str | Path | None = None, indent: int | None = 1):
        """Write the fitted rules and the table to a JSON file (plain JSON, no pickle).

        Parameters
        ----------
        path : str or Path
            File to write; returns the path, as the SISSO estimators' ``to_json``.
            Without a path the JSON text is returned (deprecated: pass a path, or use
            :meth:`to_json_string`).
        indent : int, optional
        """
        if path is None:
            warnings.warn("SubgroupDiscovery.to_json() without a path is deprecated; pass a "
                          "path or use to_json_string()", FutureWarning, stacklevel=2)
            return self.to_json_string(indent=None)
        path = Path(path)
        path.write_text(self.to_json_string(indent=indent) + "\n")
        return path

    def to_json_string(self, indent: int | None = None) -> str:
        """The JSON text :meth:`to_json` writes."""
        return json.dumps(self._payload(), indent=indent)

    @classmethod
    def from_json(cls, source: str | Path) -> SubgroupDiscovery:
        """Rebuild a fitted estimator (rules evaluate on new data).

        ``source``: a file written by :meth:`to_json`, or the JSON text itself.
        """
        if isinstance(source, Path) or not str(source).lstrip().startswith("{"):
            try:
                text = Path(source).read_text()
            except OSError as exc:
                raise ValueError(f"{source}: cannot read a subgroup-discovery file ({exc})"
                                 ) from None
        else:
            text = str(source)
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not a {_FORMAT} document: {exc}") from None
        if d.get("format") != _FORMAT:
            raise ValueError(f"not a {_FORMAT} document")
        qname = d["quality"].get("name", "mean_shift")
        model = cls(quality=qname if not d["quality"].get("custom") else "mean_shift",
                    **d["params"])
        model.feature_names_in_ = np.array(d["feature_names"], dtype=object)
        model.n_features_in_ = len(d["feature_names"])
        model.rules_ = [Rule.from_dict(r) for r in d["rules"]]
        model.subgroups_ = pd.DataFrame(d["subgroups"], columns=_COLUMNS)
        return model
