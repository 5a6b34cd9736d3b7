"""SISSO classification (accuracy scoring) on Bartel et al.'s perovskite data.

Reproduces the setting of C. J. Bartel et al., Sci. Adv. 5, eaav0693 (2019): 576 ABX3
compounds with experimental perovskite / non-perovskite labels, the paper's train/test split
(460 / 116), primary features rA, rB, rX, nA, nB, nX.  SISSO screens features by the accuracy
of the best decision stump (exact, with histogram bounds that skip most candidates) and picks
1D (stump) and 2D (linear SVM) descriptors on the training set; accuracies are reported on
both splits next to Bartel's tau (tau < 4.18) and Goldschmidt's t (0.825 < t < 1.059).

Usage::

    python -m benchmarks.study_bartel_tau                       # complexity 4, ~10 s
    python -m benchmarks.study_bartel_tau --max-complexity 7    # 1.4e8 candidates, ~25 min

Rungs follow ``max_complexity`` (1 -> 1 rung, 2-3 -> 2, 4-7 -> 3).  The last rung uses only
``+ - * /``: a monotone unary operator (exp, log, sqrt, ^-1 on a sign-definite feature, ...)
applied last leaves the stump accuracy unchanged, so it adds nothing to a stump screen.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from sklearn.svm import LinearSVC

from sisso_lite.datasets.bartel import load_bartel_perovskites
from sisso_lite.estimators import SissoClassifier
from sisso_lite.solvers.classification import stump_accuracy_block

FEATURES = ["rA", "rB", "rX", "nA", "nB", "nX"]
OPS = ("+", "-", "*", "/", "exp", "log", "^-1", "^2", "sqrt", "|-|")
LAST = ("+", "-", "*", "/")


def _rule_accuracy(D_train, y_train, D_test, y_test) -> tuple[float, float, str]:
    """Train/test accuracy of a stump (1D) or linear SVM (2D+) fitted on the training set."""
    codes = (y_train > 0).astype(np.int64)
    if D_train.shape[1] == 1:
        x = D_train[:, 0]
        _, thr = stump_accuracy_block(x[None, :].copy(), codes, 2, np.ones(len(x)))
        left_pos = codes[x < thr[0]].mean() > 0.5
        pred = lambda d: np.where((d[:, 0] < thr[0]) == left_pos, 1, -1)  # noqa: E731
        rule = f"{'<' if left_pos else '>'} {thr[0]:.4g} -> perovskite"
    else:
        mu, sd = D_train.mean(0), D_train.std(0)
        svm = LinearSVC(C=1.0, max_iter=20000).fit((D_train - mu) / sd, codes)
        pred = lambda d: np.where(svm.predict((d - mu) / sd) == 1, 1, -1)  # noqa: E731
        rule = "linear SVM"
    return float((pred(D_train) == y_train).mean()), float((pred(D_test) == y_test).mean()), rule


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-complexity", type=int, default=4)
    ap.add_argument("--n-dim", type=int, default=2)
    ap.add_argument("--n-sis", type=int, default=20)
    ap.add_argument("--balanced", action="store_true")
    ap.add_argument("--json", help="write the results to this file")
    args = ap.parse_args(argv)

    df, units = load_bartel_perovskites()
    train, test = df[df["split"] == "train"], df[df["split"] == "test"]
    ytr, yte = train["label"].to_numpy(), test["label"].to_numpy()
    ops = (OPS, OPS, LAST)
    clf = SissoClassifier(
        n_dim=args.n_dim, max_complexity=args.max_complexity, operators=ops, n_sis=args.n_sis,
        units=[units[f] for f in FEATURES], scoring="accuracy", balanced=args.balanced,
        n_models=5, max_abs_value=1e8, min_abs_value=1e-8, verbose=True)
    t0 = time.perf_counter()
    clf.fit(train[FEATURES], ytr)
    wall = time.perf_counter() - t0

    out: dict = {"max_complexity": args.max_complexity, "n_sis": args.n_sis,
                 "features_per_rung": clf.n_features_per_rung_, "fit_seconds": wall,
                 "screens": clf.screen_stats_, "descriptors": {}}
    for d, exprs in clf.descriptors_by_dim_.items():
        Dtr = np.column_stack([e.evaluate(train[FEATURES]) for e in exprs])
        Dte = np.column_stack([e.evaluate(test[FEATURES]) for e in exprs])
        acc_tr, acc_te, rule = _rule_accuracy(Dtr, ytr, Dte, yte)
        out["descriptors"][d] = {"expressions": [str(e) for e in exprs], "rule": rule,
                                 "train_accuracy": acc_tr, "test_accuracy": acc_te}
    for name, col in (("tau", "tau"), ("t", "t")):
        pred_tr = (train[col] < 4.18) if name == "tau" else train[col].between(0.825, 1.059)
        pred_te = (test[col] < 4.18) if name == "tau" else test[col].between(0.825, 1.059)
        out[name] = {"train_accuracy": float((np.where(pred_tr, 1, -1) == ytr).mean()),
                     "test_accuracy": float((np.where(pred_te, 1, -1) == yte).mean())}
    out["tau"]["train_stump_accuracy"] = float(stump_accuracy_block(
        train[["tau"]].to_numpy().T.copy(), (ytr > 0).astype(np.int64), 2,
        np.ones(len(ytr)))[0][0])

    print(f"\nfeature space per rung: {out['features_per_rung']}; fit {wall:.1f} s")
    for s in out["screens"]:
        print(f"  screen: {s['n_scored']} candidates scored, {s['n_pruned']} skipped by the "
              f"bound, {s['seconds']:.1f} s")
    print(f"{'descriptor':70s} {'train':>7s} {'test':>7s}")
    for d, r in out["descriptors"].items():
        print(f"{d}D {', '.join(r['expressions']):67s} {r['train_accuracy']:7.3f} "
              f"{r['test_accuracy']:7.3f}")
    print(f"{'tau < 4.18 (Bartel et al. 2019)':70s} {out['tau']['train_accuracy']:7.3f} "
          f"{out['tau']['test_accuracy']:7.3f}")
    print(f"{'0.825 < t < 1.059 (Goldschmidt)':70s} {out['t']['train_accuracy']:7.3f} "
          f"{out['t']['test_accuracy']:7.3f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)
    return out


if __name__ == "__main__":
    main()
