"""Accuracy and calibration of SISSO uncertainty: single model vs ensembles.

For repeated random train/test splits of the octet binaries and of (a subsample of) the
Emery & Wolverton (2017) ABO3 perovskites, compare on the held-out rows

(a) single SISSO with a constant sigma = training RMSE,
(b) plain bootstrap ensemble (no feature dropout), sigma = member spread,
(c) bootstrap + feature dropout (Nair, Foppa & Scheffler), sigma = member spread,
(d) (c) + isotonic recalibration (Kuleshov et al. 2018) on out-of-bag residuals,

and every other combination of {bootstrap, bootstrap + dropout} x {sigma = spread, sigma =
mixture (spread + member out-of-bag error)} x {raw, sigma scaling (Palmer et al. 2022),
isotonic}. Each ensemble is
fitted once; the spread and mixture variants share its members.

Metrics (mean +- standard deviation over splits): MAE, RMSE, miscalibration area, 90 %
interval coverage (PICP) and width, Gaussian NLL, Spearman(|error|, sigma).

Acceptance: (d) has 90 % coverage within [0.85, 0.95] and a smaller miscalibration area
than plain bootstrap (spread or mixture, not recalibrated), on every data set.

Run: ``.venv/bin/python -m benchmarks.study_ensemble_calibration [--quick] [--output f.md]``
"""

from __future__ import annotations

import argparse
import copy
import time
from collections import defaultdict

import numpy as np
import pandas as pd
from sklearn.base import clone

from sisso_lite.estimators import SissoEnsemble, SissoRegressor
from sisso_lite.uncertainty import IsotonicRecalibration, SigmaScaling, uncertainty_metrics

OPERATORS = ("+", "-", "*", "/", "exp", "^-1", "^2", "sqrt", "log", "|-|")
ENSEMBLES = {"b": "bootstrap", "c": "bootstrap + dropout"}
SIGMAS = {"spread": "sigma = spread", "mixture": "sigma = mixture"}
RECALS = {"raw": "", "sigma": " + sigma scaling", "iso": " + isotonic"}
#: the recommended configuration, checked by the acceptance test
RECOMMENDED = "c/spread/iso"
COLUMNS = ["mae", "rmse", "miscal_area", "picp_90", "width_90", "nll", "spearman"]


def _label(key: str) -> str:
    if key == "a":
        return "(a) single SISSO, sigma = train RMSE"
    ens, sig, rec = key.split("/")
    tag = {"b/spread/raw": "(b) ", RECOMMENDED: "(d) ", "c/spread/raw": "(c) "}.get(key, "")
    return f"{tag}{ENSEMBLES[ens]}, {SIGMAS[sig]}{RECALS[rec]}"


def _octet():
    from sisso_lite.datasets import load_octet_binaries

    data = load_octet_binaries()
    if hasattr(data, "X"):
        return data.X, data.y, data.units
    return data[0], data[1], data[-1]


def _emery():
    from sisso_lite.datasets.emery import load_emery_perovskites

    X, y, _, units = load_emery_perovskites("formation_energy")
    return X, y, units


def _ensemble_metrics(ens: SissoEnsemble, y_train, X_test, y_test, prefix: str) -> dict:
    """Raw, sigma-scaled and isotonic metrics of one fitted (uncalibrated) ensemble."""
    mu, sigma = ens.predict_uncalibrated(X_test)
    ok = ens.oob_count_ >= 2
    y_tr = np.asarray(y_train)[ok]
    oob_mu = ens.oob_prediction_[ok]
    oob_s = np.maximum(ens.oob_std_[ok], ens.sigma_floor_)
    out = {f"{prefix}/raw": uncertainty_metrics(y_test, mu, sigma)}
    sig = SigmaScaling().fit(y_tr, oob_mu, oob_s)
    out[f"{prefix}/sigma"] = uncertainty_metrics(y_test, mu, sigma, recalibrator=sig)
    out[f"{prefix}/sigma"]["scale"] = sig.scale_
    iso = IsotonicRecalibration().fit(y_tr, oob_mu, oob_s)
    out[f"{prefix}/iso"] = uncertainty_metrics(y_test, mu, sigma, recalibrator=iso)
    return out


def run_dataset(name, X, y, units, *, n_splits, n_train, n_test, n_estimators, template,
                feature_dropout, seed=0) -> pd.DataFrame:
    """Metrics of every method on ``n_splits`` random splits; one row per (method, split)."""
    rng = np.random.default_rng(seed)
    rows = []
    for split in range(n_splits):
        perm = rng.permutation(len(y))
        train, test = perm[:n_train], perm[n_train:n_train + n_test]
        X_tr, y_tr, X_te, y_te = X.iloc[train], y.iloc[train], X.iloc[test], y.iloc[test]
        y_te = y_te.to_numpy()
        est = SissoRegressor(**{**template.get_params(), "units": units})
        single = clone(est).fit(X_tr, y_tr)
        s_train = np.sqrt(np.mean((single.predict(X_tr) - y_tr.to_numpy()) ** 2))
        res = {"a": uncertainty_metrics(y_te, single.predict(X_te),
                                        np.full(len(y_te), s_train))}
        for key, dropout in (("b", 0.0), ("c", feature_dropout)):
            ens = SissoEnsemble(est, n_estimators=n_estimators, feature_dropout=dropout,
                                predictive_std="mixture", random_state=1000 * split + 7)
            ens.fit(X_tr, y_tr)
            res.update(_ensemble_metrics(ens, y_tr, X_te, y_te, f"{key}/mixture"))
            # same members, spread-only sigma (out-of-bag quantities recomputed)
            spread = copy.copy(ens)
            spread.predictive_std = "spread"
            spread._fit_oob(spread._primary(X_tr), y_tr.to_numpy())
            res.update(_ensemble_metrics(spread, y_tr, X_te, y_te, f"{key}/spread"))
        for key, m in res.items():
            rows.append({"dataset": name, "method": key, "split": split, **m})
    return pd.DataFrame(rows)


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """Mean +- std over splits, one row per (dataset, method)."""
    order = ["a"] + [f"{e}/{s}/{r}" for e in ENSEMBLES for s in SIGMAS for r in RECALS]
    datasets = list(dict.fromkeys(df["dataset"]))
    df = df.assign(_d=df["dataset"].map(datasets.index), _o=df["method"].map(order.index))
    df = df.sort_values(["_d", "_o", "split"], kind="stable")
    out = defaultdict(dict)
    for (dataset, method), g in df.groupby(["dataset", "method"], sort=False):
        for col in COLUMNS:
            out[(dataset, _label(method))][col] = (
                f"{g[col].mean():.3f} ± {g[col].std(ddof=1):.3f}")
    table = pd.DataFrame.from_dict(out, orient="index")
    table.index = pd.MultiIndex.from_tuples(table.index, names=["dataset", "method"])
    return table


def acceptance(df: pd.DataFrame) -> dict[str, bool]:
    """(d): 0.85 <= mean PICP90 <= 0.95 and mean miscal. area below plain bootstrap's."""
    ok = {}
    for dataset, g in df.groupby("dataset"):
        mean = g.groupby("method")[["picp_90", "miscal_area"]].mean()
        d = mean.loc[RECOMMENDED]
        ok[dataset] = bool(0.85 <= d["picp_90"] <= 0.95
                           and d["miscal_area"] < mean.loc["b/spread/raw", "miscal_area"]
                           and d["miscal_area"] < mean.loc["b/mixture/raw", "miscal_area"])
    return ok


def main(argv: list[str] | None = None) -> int:
    """Run the study; prints a markdown table; exit code 1 if acceptance fails."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer splits/members (smoke test)")
    p.add_argument("--n-estimators", type=int, default=32)
    p.add_argument("--datasets", nargs="+", default=["octet", "emery"])
    p.add_argument("--feature-dropout", type=float, default=0.2)
    p.add_argument("--output", default=None, help="also write the table (markdown) here")
    p.add_argument("--csv", default=None, help="also write the per-split metrics here")
    args = p.parse_args(argv)
    n_est = 8 if args.quick else args.n_estimators
    configs = {
        # 82 materials, 14 primary features; rung 2 (max_complexity 3)
        "octet": dict(load=_octet, n_splits=3 if args.quick else 10, n_train=62, n_test=20,
                      template=SissoRegressor(n_dim=2, max_complexity=3, n_sis=20,
                                              operators=OPERATORS, n_models=1)),
        # 5276 perovskites subsampled: 1000 train / 1000 test; 6 primary features
        "emery": dict(load=_emery, n_splits=2 if args.quick else 5, n_train=1000, n_test=1000,
                      template=SissoRegressor(n_dim=2, max_complexity=3, n_sis=20,
                                              operators=OPERATORS, n_models=1)),
    }
    frames = []
    for name in args.datasets:
        cfg = dict(configs[name])
        X, y, units = cfg.pop("load")()
        t0 = time.perf_counter()
        frames.append(run_dataset(name, X, y, units, n_estimators=n_est,
                                  feature_dropout=args.feature_dropout, **cfg))
        print(f"{name}: {time.perf_counter() - t0:.0f} s", flush=True)
    df = pd.concat(frames, ignore_index=True)
    if args.csv:
        df.to_csv(args.csv, index=False)
    table = summarize(df)
    text = table.to_markdown() if _has_tabulate() else table.to_string()
    print(text)
    ok = acceptance(df)
    print("acceptance ((d): PICP90 in [0.85, 0.95], miscal. area < plain bootstrap):", ok)
    if args.output:
        with open(args.output, "w") as fh:
            fh.write(text + "\n\nacceptance: " + str(ok) + "\n")
    return 0 if all(ok.values()) else 1


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    raise SystemExit(main())
