""""Find high-T_C ferromagnets": a constrained campaign ``P(FM) * EI(T_C)`` on MAGNDATA.

The pool is every MAGNDATA compound (one entry per reduced formula, the one with the highest
transition temperature) with a transition temperature and a readable mcif; a "measurement"
reveals its ordering temperature ``T`` (as ``ln(T / K)``) and whether it is ferro- or
ferrimagnetic (a net moment; :func:`~sisso_lite.screening.magnetic_labels.order_from_moments`).
The targets are the ``n_targets`` ferro/ferrimagnets with the highest T_C.

Strategies (:func:`ferromagnet_strategies`):

* ``random``;
* ``ei``: unconstrained expected improvement of ``ln T`` -- it chases every high ordering
  temperature, antiferromagnets included;
* ``p_fm_ei``: ``P(FM) * EI(ln T_C)`` (:func:`sisso_lite.learning.acquisition.constrained`),
  ``P(FM)`` from a SISSO classifier; the incumbent of EI is the best *ferromagnet* measured
  so far (:class:`FerromagnetCampaign`).

``P(FM)`` comes from 5-fold out-of-fold predictions of :func:`~sisso_lite.screening.magnetic.
default_classifier` (each compound's probability from a classifier that never saw it): a
stand-in for a classifier trained on an external database such as the Frey et al. set.
Metrics are those of Rohr et al., Chem. Sci. 11, 2696 (2020)
(:func:`~sisso_lite.learning.metrics.summarize_traces`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sisso_lite.learning import Campaign
from sisso_lite.learning.metrics import summarize_traces

__all__ = ["POOL_FEATURES", "FerromagnetCampaign", "ferromagnet_strategies",
           "magndata_ferromagnet_pool", "run_ferromagnet_benchmark"]

TARGET = "ln_T"
#: surrogate / classifier features of the pool (composition + magnetic sublattice)
POOL_FEATURES = ("mean_electronegativity", "range_electronegativity", "mean_covalent_radius",
                 "mean_n_d_valence", "mean_n_f_valence", "mean_n_d_unfilled", "maximum_Z",
                 "f_ion", "d_mm1", "d_mm2", "z_mm1", "angle_mxm", "x_magnetic")


def magndata_ferromagnet_pool(labels: pd.DataFrame | None = None, *, n_folds: int = 5,
                              random_state: int = 0, classifier=None) -> pd.DataFrame:
    """The MAGNDATA campaign pool.

    Parameters
    ----------
    labels : DataFrame, optional
        Default :func:`sisso_lite.datasets.magnetic.load_magndata_labels`.
    n_folds : int
        Folds of the out-of-fold ``P(FM)``.
    classifier : classifier, optional
        Default :func:`~sisso_lite.screening.magnetic.default_classifier`.

    Returns
    -------
    DataFrame
        Indexed by MAGNDATA id: ``formula``, ``order``, :data:`POOL_FEATURES` (NaN
        geometry imputed by the pool median), ``T_K``, ``ln_T``, ``is_fm`` (FM or FiM) and
        ``p_fm``; ``attrs["units"]``.
    """
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    from sisso_lite.datasets.magnetic import load_magndata_labels
    from sisso_lite.screening.magnetic import default_classifier
    from sisso_lite.screening.magnetic_features import MagneticFeatures

    lab = load_magndata_labels(with_temperature=True) if labels is None else labels
    lab = lab[lab["transition_temperature_K"] > 0]
    lab = lab.sort_values(["transition_temperature_K"], kind="stable") \
        .groupby("formula", sort=False).tail(1).sort_index()
    feats, units = MagneticFeatures(use_wannier=False).transform(lab)
    X = feats[list(POOL_FEATURES)]
    X = X.fillna(X.median())
    pool = pd.concat([lab.loc[X.index, ["formula", "order"]], X], axis=1)
    pool["T_K"] = lab.loc[X.index, "transition_temperature_K"].astype(float)
    pool[TARGET] = np.log(pool["T_K"])
    pool["is_fm"] = pool["order"].isin(["FM", "FiM"]).astype(int)
    unit_list = [units[c] for c in POOL_FEATURES]
    clf = default_classifier(unit_list) if classifier is None else classifier
    p = np.full(len(pool), np.nan)
    folds = StratifiedKFold(n_folds, shuffle=True, random_state=random_state)
    for train, test in folds.split(X, pool["is_fm"]):
        model = clone(clf).fit(X.iloc[train], pool["is_fm"].iloc[train])
        col = list(model.classes_).index(1)
        p[test] = np.asarray(model.predict_proba(X.iloc[test]))[:, col]
    pool["p_fm"] = p
    pool.attrs["units"] = {c: units[c] for c in POOL_FEATURES}
    return pool


class FerromagnetCampaign(Campaign):
    """A :class:`~sisso_lite.learning.Campaign` whose EI incumbent is the best *feasible*
    (ferromagnetic) value measured so far.

    ``fm_column`` is a 0/1 pool column revealed with each measurement (the order of the
    measured compound). Until a ferromagnet is measured the incumbent is the best value of
    any order. All other arguments are those of ``Campaign``.
    """

    def __init__(self, pool, *, fm_column: str = "is_fm", **kwargs):
        if fm_column not in pool.columns:
            raise ValueError(f"fm_column {fm_column!r} is not a pool column")
        self.fm_column = fm_column
        super().__init__(pool, **kwargs)

    def best_value(self) -> float:
        """Largest (or smallest, ``goal="minimize"``) measured value of a ferromagnet."""
        hist = self.history_
        ok = hist[hist["status"].isin(["ok", "prior"])]
        if ok.empty:
            return float("nan")
        values = ok["value"].to_numpy(dtype=float)
        fm = self.pool.loc[ok["pool_index"], self.fm_column].to_numpy(dtype=bool)
        pick = values[fm] if fm.any() else values
        return float(np.max(pick) if self.goal == "maximize" else np.min(pick))


def ferromagnet_strategies(surrogate="sisso", batch_strategy: str = "top") -> dict[str, dict]:
    """``random``, ``ei`` (unconstrained) and ``p_fm_ei`` (``P(FM) * EI``) options."""
    return {
        "random": {"acquisition": "random"},
        "ei": {"surrogate": surrogate, "acquisition": "ei", "batch_strategy": batch_strategy},
        "p_fm_ei": {"surrogate": surrogate, "acquisition": "constrained",
                    "feasibility": "p_fm", "batch_strategy": batch_strategy,
                    "constrained_incumbent": True},
    }


def _targets(pool: pd.DataFrame, n_targets: int) -> np.ndarray:
    fm = pool["is_fm"].to_numpy(dtype=bool)
    if n_targets < 1 or n_targets > fm.sum():
        raise ValueError(f"n_targets={n_targets} must be in [1, {int(fm.sum())}] (the "
                         "ferromagnets of the pool)")
    t = np.where(fm, pool["T_K"].to_numpy(dtype=float), -np.inf)
    cut = np.sort(t)[::-1][n_targets - 1]
    return fm & (t >= cut)


def run_ferromagnet_benchmark(pool: pd.DataFrame | None = None, *, seeds=range(3),
                              budget: int = 100, batch_size: int = 10, n_initial: int = 10,
                              n_targets: int = 20, strategies: dict | None = None,
                              checkpoints=(50, 100)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Retrospective "find high-T_C ferromagnets" benchmark.

    Returns
    -------
    summary : DataFrame
        :func:`~sisso_lite.learning.metrics.summarize_traces` per strategy plus
        ``n_found_median`` (targets found), ``fm_fraction_median`` (share of the picks that
        are ferromagnets) and ``best_tc_median`` (highest T_C of a ferromagnet found, K).
    traces : DataFrame
        One row per pick: ``strategy, seed, step, pool_index, T_K, is_fm, hit``.
    """
    pool = magndata_ferromagnet_pool() if pool is None else pool
    mask = _targets(pool, n_targets)
    strategies = ferromagnet_strategies() if strategies is None else strategies
    rows = []
    for seed in seeds:
        for name, options in strategies.items():
            opts = dict(options)
            constrained_inc = opts.pop("constrained_incumbent", False)
            cls = FerromagnetCampaign if constrained_inc else Campaign
            camp = cls(pool, target=TARGET, features=list(POOL_FEATURES), goal="maximize",
                       budget=budget, batch_size=batch_size, n_initial=n_initial,
                       random_state=int(seed), progress=False, **opts).run()
            pos = pool.index.get_indexer(camp.history_["pool_index"])
            rows.append(pd.DataFrame({
                "strategy": name, "seed": int(seed), "step": np.arange(1, len(pos) + 1),
                "pool_index": pool.index[pos], "T_K": pool["T_K"].to_numpy()[pos],
                "is_fm": pool["is_fm"].to_numpy()[pos], "hit": mask[pos],
                "n_pool": len(pool), "n_targets": int(mask.sum())}))
    traces = pd.concat(rows, ignore_index=True)
    cps = [c for c in checkpoints if c <= budget] or [budget]
    summary = summarize_traces(traces, checkpoints=cps)
    per = traces.groupby(["strategy", "seed"])
    summary["n_found_median"] = per["hit"].sum().groupby("strategy").median() \
        .reindex(summary.index)
    summary["fm_fraction_median"] = per["is_fm"].mean().groupby("strategy").median() \
        .reindex(summary.index)
    best = traces[traces["is_fm"] == 1].groupby(["strategy", "seed"])["T_K"].max()
    summary["best_tc_median"] = best.groupby("strategy").median().reindex(summary.index)
    summary.loc["random (closed form)", "n_found_median"] = budget * mask.sum() / len(pool)
    summary.attrs.update(n_pool=len(pool), n_targets=int(mask.sum()),
                         n_fm=int(pool["is_fm"].sum()), budget=budget)
    return summary, traces
