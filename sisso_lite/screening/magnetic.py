"""Magnetic screening: FM vs AFM, transition temperature and frustration in one pipeline.

:class:`MagneticScreen` follows the route of Guo, Morrow, van den Brink and Janson,
J. Mater. Chem. A (2024), doi:10.1039/D3TA05679A (descriptors of the magnetic sites ->
dominant FM vs AFM exchange -> transition temperature -> frustrated candidates):

1. primary features (:class:`~sisso_lite.screening.magnetic_features.MagneticFeatures`:
   composition, magnetic-ion distances and M-X-M angles, Wannier onsite energies / hoppings and
   the Anderson superexchange ``J ~ 4 t^2 / U``), or any numeric feature table;
2. stage 1: a :class:`~sisso_lite.estimators.SissoClassifier` (or classifier ensemble) giving
   ``P(FM)`` (FM = a net moment: ferro- or ferrimagnetic, ``positive_orders``);
3. stage 2: a :class:`~sisso_lite.estimators.SissoEnsemble` regression of ``ln(T / K)``
   (T_C or T_N) with a recalibrated sigma;
4. frustration indicator: ``f = |theta_W| / T_N`` where a Weiss temperature is given
   (A. P. Ramirez, Annu. Rev. Mater. Sci. 24, 453 (1994): ``f > 5`` marks strong
   frustration), else ``J2/J1`` of the Wannier superexchange estimates (``J2/J1 > 0.5``:
   the classical J1-J2 square lattice loses Neel order at 1/2; P. Chandra, B. Doucot,
   Phys. Rev. B 38, 9335 (1988)).

:func:`compare_with_frey` puts the FM/AFM test accuracy of the SISSO classifier beside the
published random forest (0.80) of N. C. Frey et al., Sci. Adv. 6, eabd1076 (2020) on their split.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from sisso_lite.screening.magnetic_features import MagneticFeatures
from sisso_lite.screening.stability import law_of

__all__ = ["RAMIREZ_THRESHOLD", "J_RATIO_THRESHOLD", "MagneticScreen", "compare_with_frey",
           "default_classifier", "default_regressor", "frustration", "plot_screen"]

RAMIREZ_THRESHOLD = 5.0
"""``|theta_W| / T_N`` above which a magnet counts as frustrated (Ramirez 1994)."""
J_RATIO_THRESHOLD = 0.5
"""``J2 / J1`` above which a magnet counts as frustrated (J1-J2 square lattice)."""

_OPERATORS = ("+", "-", "*", "/", "log", "sqrt", "^2", "^-1")
RANKINGS = ("p_fm_T", "p_fm", "T", "frustration")


def default_classifier(units: dict | None = None):
    """Stage 1: a 2D SISSO classifier (accuracy scoring, class-balanced, rung 1)."""
    from sisso_lite.estimators import SissoClassifier

    return SissoClassifier(n_dim=2, max_complexity=1, n_sis=20, scoring="accuracy",
                           balanced=True, n_models=1, operators=_OPERATORS, units=units)


def default_regressor(units: dict | None = None, random_state: int | None = 0,
                      n_estimators: int = 10):
    """Stage 2: a small SISSO ensemble of ``ln T`` (bootstrap + feature dropout, mixture
    sigma recalibrated on out-of-bag residuals)."""
    from sisso_lite.estimators import SissoEnsemble, SissoRegressor

    template = SissoRegressor(n_dim=2, max_complexity=1, n_sis=20, n_models=1,
                              operators=_OPERATORS, units=units)
    return SissoEnsemble(template, n_estimators=n_estimators, feature_dropout=0.2,
                         predictive_std="mixture", calibrate="sigma",
                         random_state=random_state)


def frustration(temperature, weiss=None, j2_over_j1=None, *,
                ramirez_threshold: float = RAMIREZ_THRESHOLD,
                j_ratio_threshold: float = J_RATIO_THRESHOLD) -> pd.DataFrame:
    """Frustration indicator per material.

    ``f = |theta_W| / T`` where ``weiss`` (K) is finite, else ``f = J2/J1`` where
    ``j2_over_j1`` is finite, else NaN.

    Returns
    -------
    DataFrame
        ``f``, ``f_method`` ("|theta_W|/T", "J2/J1 (Wannier)" or ""), ``frustrated``
        (``f`` above the threshold of its method).
    """
    t = np.asarray(temperature, dtype=float).ravel()
    n = t.size
    w = np.full(n, np.nan) if weiss is None else np.asarray(weiss, dtype=float).ravel()
    r = np.full(n, np.nan) if j2_over_j1 is None else np.asarray(j2_over_j1, dtype=float).ravel()
    if w.size != n or r.size != n:
        raise ValueError("temperature, weiss and j2_over_j1 must have the same length")
    with np.errstate(divide="ignore", invalid="ignore"):
        f_w = np.abs(w) / t
    use_w = np.isfinite(f_w) & (t > 0)
    use_r = ~use_w & np.isfinite(r)
    f = np.where(use_w, f_w, np.where(use_r, r, np.nan))
    method = np.where(use_w, "|theta_W|/T", np.where(use_r, "J2/J1 (Wannier)", ""))
    frustrated = (use_w & (f_w > ramirez_threshold)) | (use_r & (r > j_ratio_threshold))
    return pd.DataFrame({"f": f, "f_method": method, "frustrated": frustrated})


class MagneticScreen(BaseEstimator):
    """Two-stage SISSO screen: P(FM), ln T (mean +- sigma), frustration, ranking.

    Parameters
    ----------
    classifier : classifier, optional
        Stage 1 (``predict_proba``); default :func:`default_classifier`.
    regressor : regressor, optional
        Stage 2 on ``ln(T / K)`` (``predict(X, return_std=True)``); default
        :func:`default_regressor`.
    featurizer : MagneticFeatures or "none", optional
        Default :class:`MagneticFeatures` (inputs are material tables with ``formula``...);
        ``"none"``: inputs are numeric feature tables used as they are (e.g. the Frey set).
    positive_orders : tuple of str
        Order labels counted as FM for stage 1 (default FM and FiM: a net moment).
    ramirez_threshold, j_ratio_threshold : float
        Frustration thresholds (:func:`frustration`).
    rank_by : {"p_fm_T", "p_fm", "T", "frustration"}
        Ranking of :meth:`screen`: ``P(FM) * T`` (expected T_C of a ferromagnet; default),
        ``P(FM)``, ``T`` or ``f``.
    min_coverage : float
        Features finite in less than this fraction of the training rows are not used by
        the models (Wannier features of a few compounds feed only the frustration test);
        remaining NaN are imputed by the training median and flagged.

    Attributes
    ----------
    features_ : list of str
        Model features. ``units_``, ``medians_``, ``classifier_``, ``regressor_`` (None
        without temperatures), ``classifier_descriptors_``, ``temperature_law_``.
    """

    def __init__(self, classifier=None, regressor=None, featurizer=None,
                 positive_orders=("FM", "FiM"), ramirez_threshold=RAMIREZ_THRESHOLD,
                 j_ratio_threshold=J_RATIO_THRESHOLD, rank_by="p_fm_T", min_coverage=0.5):
        self.classifier = classifier
        self.regressor = regressor
        self.featurizer = featurizer
        self.positive_orders = positive_orders
        self.ramirez_threshold = ramirez_threshold
        self.j_ratio_threshold = j_ratio_threshold
        self.rank_by = rank_by
        self.min_coverage = min_coverage

    # ------------------------------------------------------------------ features
    def _featurizer(self):
        if isinstance(self.featurizer, str):
            if self.featurizer != "none":
                raise ValueError(f"featurizer must be a MagneticFeatures, None or 'none', "
                                 f"got {self.featurizer!r}")
            return None
        return MagneticFeatures() if self.featurizer is None else self.featurizer

    def _featurize(self, X) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
        if not isinstance(X, pd.DataFrame):
            raise TypeError("X must be a DataFrame (materials with 'formula', or features)")
        fz = self._featurizer()
        if fz is None:
            bad = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
            if bad:
                raise ValueError(f"featurizer='none' needs numeric features; column {bad[0]!r}"
                                 " is not numeric")
            return X.astype(float), {c: None for c in X.columns}, \
                pd.DataFrame(columns=["material", "reason"])
        feats, units = fz.transform(X)
        return feats, units, fz.skipped_.copy()

    def _model_matrix(self, F: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
        missing = [c for c in self.features_ if c not in F.columns]
        if missing:
            raise ValueError(f"feature columns {missing[:5]} missing from the input")
        M = F[self.features_].copy()
        imputed = M.isna()
        M = M.fillna(self.medians_)
        names = imputed.apply(lambda r: ",".join(r.index[r]), axis=1)
        return M, names

    # ------------------------------------------------------------------ fit
    def fit(self, X, order, temperature=None):
        """Fit stage 1 on ``order`` and, with ``temperature`` (K), stage 2 on ``ln T``.

        Parameters
        ----------
        X : DataFrame
            Materials (see :class:`MagneticFeatures`) or numeric features.
        order : array-like
            "FM" / "AFM" / "FiM" labels, or 1/0 (1 = FM).
        temperature : array-like, optional
            Transition temperature (K); rows with NaN or T <= 0 are left out of stage 2.
        """
        if self.rank_by not in RANKINGS:
            raise ValueError(f"rank_by must be one of {RANKINGS}, got {self.rank_by!r}")
        F, units, skipped = self._featurize(X)
        order = pd.Series(np.asarray(order), index=X.index).loc[F.index]
        y = self._binary(order)
        cover = F.notna().mean()
        self.features_ = [c for c in F.columns if cover[c] >= self.min_coverage
                          and F[c].nunique(dropna=True) > 1]
        if not self.features_:
            raise ValueError("no feature is finite in enough training rows")
        self.units_ = {c: units.get(c) for c in self.features_}
        self.medians_ = F[self.features_].median()
        M, _ = self._model_matrix(F)
        unit_list = [self.units_[c] for c in self.features_]
        clf = default_classifier(unit_list) if self.classifier is None else clone(self.classifier)
        self.classifier_ = clf.fit(M, y)
        self.classifier_descriptors_ = list(getattr(self.classifier_, "descriptors_", []))
        self.regressor_, self.temperature_law_ = None, ""
        if temperature is not None:
            t = pd.Series(np.asarray(temperature, dtype=float), index=X.index).loc[F.index]
            ok = np.isfinite(t.to_numpy()) & (t.to_numpy() > 0)
            if ok.sum() < 5:
                raise ValueError(f"only {int(ok.sum())} rows have a positive transition "
                                 "temperature; stage 2 needs at least 5")
            reg = default_regressor(unit_list) if self.regressor is None else \
                clone(self.regressor)
            self.regressor_ = reg.fit(M[ok], np.log(t[ok].to_numpy()))
            self.temperature_law_ = f"ln(T/K) = {law_of(self.regressor_)}"
        self.skipped_ = skipped
        self.n_train_ = len(M)
        return self

    def _binary(self, order: pd.Series) -> np.ndarray:
        vals = order.to_numpy()
        if pd.api.types.is_numeric_dtype(order):
            bad = ~np.isin(vals, [0, 1])
            if bad.any():
                raise ValueError(f"numeric order labels must be 0/1; row {order.index[bad][0]!r}"
                                 f" has {vals[bad][0]!r}")
            return vals.astype(int)
        known = {"FM", "AFM", "FiM"}
        bad = ~np.isin(vals, list(known))
        if bad.any():
            raise ValueError(f"order label {vals[bad][0]!r} of row {order.index[bad][0]!r} is "
                             f"not one of {sorted(known)}")
        return np.isin(vals, list(self.positive_orders)).astype(int)

    # ------------------------------------------------------------------ predict
    def predict_proba(self, X) -> np.ndarray:
        """P(AFM), P(FM) per row of ``X``, shape (n, 2); NaN rows for materials that could
        not be featurised (a warning names them)."""
        check_is_fitted(self, "classifier_")
        F, _, skipped = self._featurize(X)
        p = self._proba(self._model_matrix(F)[0])
        return _align(p, F.index, X.index, skipped)

    def _proba(self, M: pd.DataFrame) -> np.ndarray:
        p = np.asarray(self.classifier_.predict_proba(M), dtype=float)
        classes = list(self.classifier_.classes_)
        p_fm = p[:, classes.index(1)]
        return np.column_stack([1 - p_fm, p_fm])

    def predict(self, X) -> np.ndarray:
        """Predicted order, "FM" (a net moment) or "AFM" ("" for skipped materials)."""
        p = self.predict_proba(X)[:, 1]
        return np.where(np.isnan(p), "", np.where(p >= 0.5, "FM", "AFM"))

    def predict_temperature(self, X, return_std: bool = False):
        """Transition temperature ``exp(mu)`` (K) and, with ``return_std``, sigma of ln T
        (NaN for materials that could not be featurised)."""
        check_is_fitted(self, "classifier_")
        if self.regressor_ is None:
            raise ValueError("stage 2 was not fitted: pass temperature to fit()")
        F, _, skipped = self._featurize(X)
        mu, sd = _mean_std(self.regressor_, self._model_matrix(F)[0])
        out = _align(np.column_stack([np.exp(mu), sd]), F.index, X.index, skipped)
        return (out[:, 0], out[:, 1]) if return_std else out[:, 0]

    def screen(self, candidates: pd.DataFrame, top: int | None = None) -> pd.DataFrame:
        """Ranked table of the candidates.

        Optional candidate columns: ``weiss_temperature_K`` (theta_W, K) and
        ``transition_temperature_K`` (a known T used for ``f`` instead of the prediction).

        Returns
        -------
        DataFrame
            ``p_fm``, ``order_pred``, ``T_K`` (``exp(mu)``), ``T_low_K`` / ``T_high_K``
            (``exp(mu -+ sigma)``), ``T_sigma_K`` (``T * sigma``), ``f``, ``f_method``,
            ``frustrated``, ``flags``, ``score``, ``rank`` and the formulas used
            (``classifier_descriptors``, ``temperature_law``); ``attrs["skipped"]`` maps
            each candidate that could not be featurised to the reason (also
            ``self.skipped_``, a DataFrame ``material, reason``).
        """
        check_is_fitted(self, "classifier_")
        F, _, skipped = self._featurize(candidates)
        M, imputed = self._model_matrix(F)
        out = pd.DataFrame(index=F.index)
        if "formula" in candidates.columns:
            out["formula"] = candidates.loc[F.index, "formula"]
        out["p_fm"] = self._proba(M)[:, 1]
        out["order_pred"] = np.where(out["p_fm"] >= 0.5, "FM", "AFM")
        nan = np.full(len(F), np.nan)
        mu, sd = _mean_std(self.regressor_, M) if self.regressor_ is not None else (nan, nan)
        out["T_K"], out["T_low_K"], out["T_high_K"] = np.exp(mu), np.exp(mu - sd), \
            np.exp(mu + sd)
        out["T_sigma_K"] = np.exp(mu) * sd
        t_known = _column(candidates, "transition_temperature_K", F.index)
        t_for_f = np.where(np.isfinite(t_known), t_known, out["T_K"].to_numpy())
        fr = frustration(t_for_f, _column(candidates, "weiss_temperature_K", F.index),
                         F["w90_J2_over_J1"].to_numpy() if "w90_J2_over_J1" in F else None,
                         ramirez_threshold=self.ramirez_threshold,
                         j_ratio_threshold=self.j_ratio_threshold)
        out[["f", "f_method", "frustrated"]] = fr.to_numpy()
        out["frustrated"] = out["frustrated"].astype(bool)
        out["f"] = out["f"].astype(float)
        flags = []
        for i in range(len(out)):
            fl = ["frustrated"] if out["frustrated"].iloc[i] else []
            if np.isfinite(t_known[i]):
                fl.append("T known")
            if imputed.iloc[i]:
                fl.append(f"imputed: {imputed.iloc[i]}")
            flags.append("; ".join(fl))
        out["flags"] = flags
        key = {"p_fm_T": out["p_fm"] * out["T_K"].fillna(1.0), "p_fm": out["p_fm"],
               "T": out["T_K"], "frustration": out["f"]}[self.rank_by]
        out["score"] = key.astype(float)
        out["classifier_descriptors"] = " | ".join(self.classifier_descriptors_)
        out["temperature_law"] = self.temperature_law_
        out = out.sort_values("score", ascending=False, na_position="last")
        out.insert(0, "rank", np.arange(1, len(out) + 1))
        self.skipped_ = skipped
        out.attrs.update(skipped=dict(zip(skipped["material"], skipped["reason"], strict=True)),
                         rank_by=self.rank_by,
                         classifier_descriptors=self.classifier_descriptors_,
                         temperature_law=self.temperature_law_)
        return out if top is None else out.head(top)


def _align(values: np.ndarray, index, full_index, skipped: pd.DataFrame) -> np.ndarray:
    """Rows of ``values`` (on ``index``) placed on ``full_index``, NaN for skipped rows."""
    if len(index) == len(full_index):
        return values
    import warnings

    warnings.warn(f"{len(skipped)} material(s) skipped (NaN predictions): "
                  + "; ".join(skipped["reason"].head(5)), UserWarning, stacklevel=3)
    out = np.full((len(full_index), values.shape[1]), np.nan)
    out[full_index.get_indexer(index)] = values
    return out


def _column(frame: pd.DataFrame, name: str, index) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(index), np.nan)
    return pd.to_numeric(frame.loc[index, name], errors="coerce").to_numpy(dtype=float)


def _mean_std(model, X) -> tuple[np.ndarray, np.ndarray]:
    try:
        mean, std = model.predict(X, return_std=True)
    except TypeError:
        mean, std = model.predict(X), np.zeros(len(X))
    return np.asarray(mean, dtype=float).ravel(), np.asarray(std, dtype=float).ravel()


def plot_screen(table: pd.DataFrame, ax=None, annotate: int = 8):
    """P(FM) vs predicted T with ln-T error bars; frustrated candidates as open red squares.

    Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.0, 4.2))
    else:
        fig = ax.figure
    t, p = table["T_K"].to_numpy(float), table["p_fm"].to_numpy(float)
    err = np.vstack([t - table["T_low_K"].to_numpy(float), table["T_high_K"].to_numpy(float) - t])
    ax.errorbar(p, t, yerr=err, fmt="o", ms=4, alpha=0.6, color="C0", ecolor="0.7",
                label="candidate (T = exp(mu) +- sigma)")
    fr = table["frustrated"].to_numpy(bool)
    if fr.any():
        ax.scatter(p[fr], t[fr], s=70, facecolors="none", edgecolors="C3", marker="s",
                   label="frustrated")
    names = table["formula"] if "formula" in table else pd.Series(table.index, index=table.index)
    for i in range(min(annotate, len(table))):
        ax.annotate(str(names.iloc[i]), (p[i], t[i]), fontsize=7, xytext=(3, 3),
                    textcoords="offset points")
    ax.set_yscale("log")
    ax.set_xlabel("P(FM) (stage 1, SISSO classifier)")
    ax.set_ylabel("predicted T_C / T_N (K)")
    ax.axvline(0.5, color="0.5", lw=0.8, ls="--")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def compare_with_frey(classifier=None, random_forest: bool = True,
                      random_state: int = 0) -> pd.DataFrame:
    """FM/AFM test accuracy on the Frey et al. (2020) split, beside their random forest.

    Rows: the published random forest (0.80, upstream notebook), the same random forest
    re-fitted here (scikit-learn, 100 trees) and the SISSO classifier (default
    :func:`default_classifier` without units). Columns: ``test_accuracy``, ``f1_fm``,
    ``f1_afm``, ``n_train``, ``n_test``, ``model``.
    """
    from sklearn.metrics import accuracy_score, f1_score

    from sisso_lite.datasets.magnetic import FREY_RF_TEST_ACCURACY, load_frey_magnetic_order

    X, y, Xt, yt, _ = load_frey_magnetic_order()
    rows = [{"method": "random forest (Frey et al. 2020, published)",
             "test_accuracy": FREY_RF_TEST_ACCURACY, "f1_fm": 0.63, "f1_afm": 0.86,
             "model": "RandomForestClassifier"}]

    def row(name, est, model):
        pred = est.predict(Xt)
        return {"method": name, "test_accuracy": accuracy_score(yt, pred),
                "f1_fm": f1_score(yt, pred, pos_label=1), "f1_afm": f1_score(yt, pred, pos_label=0),
                "model": model}

    if random_forest:
        from sklearn.ensemble import RandomForestClassifier

        rf = RandomForestClassifier(n_estimators=100, random_state=random_state,
                                    n_jobs=1).fit(X, y)
        rows.append(row("random forest (refitted here, same split)", rf,
                        "RandomForestClassifier(100)"))
    clf = default_classifier() if classifier is None else clone(classifier)
    clf.fit(X, y)
    rows.append(row("SISSO classifier (this work)", clf,
                    " | ".join(getattr(clf, "descriptors_", []))))
    out = pd.DataFrame(rows).set_index("method")
    out["n_train"], out["n_test"] = len(X), len(Xt)
    return out
