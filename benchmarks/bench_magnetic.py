"""Magnetic-screening benchmark (issue 13): Frey FM/AFM split, the two-stage screen, campaign.

Parts (``--parts``, default ``frey screen campaign``):

* ``frey`` -- FM/AFM test accuracy on the Frey et al. (2020) split (3,988 train / 315 test):
  their published random forest (0.80), the same forest re-fitted here, and the SISSO
  classifier of the screen, side by side (:func:`~sisso_lite.screening.magnetic.
  compare_with_frey`).
* ``screen`` -- :class:`~sisso_lite.screening.magnetic.MagneticScreen` on MAGNDATA (one entry
  per formula, random 70/30 split per seed): stage 1 ROC AUC / balanced accuracy of
  P(FM or FiM), stage 2 RMSE of ln T and the share inside +-1 sigma.
* ``campaign`` -- "find high-T_C ferromagnets": random, unconstrained EI and P(FM) * EI
  campaigns on the MAGNDATA pool (1,119 compounds, 158 ferro/ferrimagnets; targets: the 20
  with the highest T_C); fraction found at the checkpoints (median over seeds).
* ``labels`` -- re-derive the bundled label table from the 1,968 upstream mcifs
  (``--magndata-dir`` with ``magndata_mcifs.tar.gz``; skipped when absent) and count
  disagreements with the bundle.

Run: ``.venv/bin/python -m benchmarks.bench_magnetic [--parts frey screen campaign labels]
[--seeds 3] [--budget 100] [--batch-size 10] [--surrogate sisso] [--magndata-dir DIR]``
"""

from __future__ import annotations

import argparse
import tarfile
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sisso_lite.screening.magnetic import MagneticScreen, compare_with_frey
from sisso_lite.screening.magnetic_campaign import (
    ferromagnet_strategies,
    magndata_ferromagnet_pool,
    run_ferromagnet_benchmark,
)

RESULTS = Path(__file__).parent / "results"
DEFAULT_MAGNDATA = Path(__file__).resolve().parents[2] / "shared/data/" \
    "magndata_commensurate_magnetic_structures"


def part_frey() -> pd.DataFrame:
    start = time.perf_counter()
    table = compare_with_frey()
    print(f"\n== FM/AFM on the Frey et al. 2020 split ({time.perf_counter() - start:.1f} s)")
    print(table[["test_accuracy", "f1_fm", "f1_afm", "n_train", "n_test"]]
          .to_string(float_format="%.3f"))
    print("SISSO descriptors:", table.loc["SISSO classifier (this work)", "model"])
    return table


def part_screen(seeds) -> pd.DataFrame:
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score

    from sisso_lite.datasets.magnetic import load_magndata_labels

    lab = load_magndata_labels(with_temperature=True)
    lab = lab.sort_values("transition_temperature_K").groupby("formula").tail(1).sort_index()
    rows = []
    for seed in seeds:
        start = time.perf_counter()
        perm = np.random.default_rng(seed).permutation(len(lab))
        n_train = int(0.7 * len(lab))
        train, test = lab.iloc[perm[:n_train]], lab.iloc[perm[n_train:]]
        screen = MagneticScreen().fit(train, train["order"], train["transition_temperature_K"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # CsO2: no d/f ion, skipped
            p = screen.predict_proba(test)[:, 1]
            t, sigma = screen.predict_temperature(test, return_std=True)
        ok = np.isfinite(p)
        test, p, t, sigma = test[ok], p[ok], t[ok], sigma[ok]
        y = test["order"].isin(["FM", "FiM"]).to_numpy()
        err = np.log(t) - np.log(test["transition_temperature_K"].to_numpy())
        rows.append({"seed": seed, "n_train": len(train), "n_test": len(test),
                     "auc_p_fm": roc_auc_score(y, p),
                     "balanced_acc": balanced_accuracy_score(y, p >= 0.5),
                     "rmse_lnT": float(np.sqrt(np.mean(err ** 2))),
                     "std_lnT_test": float(np.log(test["transition_temperature_K"]).std()),
                     "inside_1sigma": float(np.mean(np.abs(err) <= sigma)),
                     "seconds": time.perf_counter() - start,
                     "classifier": " | ".join(screen.classifier_descriptors_),
                     "law": screen.temperature_law_})
    table = pd.DataFrame(rows).set_index("seed")
    print("\n== MagneticScreen on MAGNDATA (70/30 per seed)")
    print(table.drop(columns=["classifier", "law"]).to_string(float_format="%.3f"))
    print("median:", table[["auc_p_fm", "balanced_acc", "rmse_lnT", "inside_1sigma"]]
          .median().round(3).to_dict())
    print("last laws:", table["classifier"].iloc[-1], "//", table["law"].iloc[-1])
    return table


def part_campaign(seeds, budget: int, batch_size: int, surrogate: str) -> pd.DataFrame:
    start = time.perf_counter()
    pool = magndata_ferromagnet_pool()
    from sklearn.metrics import roc_auc_score

    print(f"\n== find high-T_C ferromagnets: pool {len(pool)} ({int(pool['is_fm'].sum())} FM/FiM)"
          f", out-of-fold P(FM) AUC {roc_auc_score(pool['is_fm'], pool['p_fm']):.3f} "
          f"({time.perf_counter() - start:.1f} s)")
    summary, traces = run_ferromagnet_benchmark(
        pool, seeds=seeds, budget=budget, batch_size=batch_size,
        strategies=ferromagnet_strategies(surrogate),
        checkpoints=tuple(c for c in (25, 50, 100, 200) if c <= budget))
    cols = [c for c in summary.columns if c.endswith("_median")]
    print(f"targets: {summary.attrs['n_targets']}, budget {budget}, seeds {list(seeds)}, "
          f"surrogate {surrogate} ({time.perf_counter() - start:.1f} s)")
    print(summary[cols].to_string(float_format="%.3f"))
    RESULTS.mkdir(exist_ok=True)
    summary.to_csv(RESULTS / "magnetic_campaign_summary.csv")
    traces.to_csv(RESULTS / "magnetic_campaign_traces.csv", index=False)
    return summary


def part_labels(magndata_dir: Path) -> pd.DataFrame | None:
    from sisso_lite.datasets.magnetic import load_magndata_labels
    from sisso_lite.screening.magnetic_labels import magndata_table

    tar = magndata_dir / "magndata_mcifs.tar.gz"
    if not tar.is_file():
        print(f"\n== labels: skipped ({tar} not found)")
        return None
    start = time.perf_counter()
    summary = pd.read_csv(magndata_dir / "magndata_mcif_summary.csv", dtype={"magndata_id": str})
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(tar) as tf:
            tf.extractall(tmp, filter="data")
        table, skipped = magndata_table(Path(tmp) / "mcifs", summary)
    bundled = load_magndata_labels()
    same = table.index.equals(bundled.index)
    diff = int((table["order"] != bundled["order"].reindex(table.index)).sum())
    print(f"\n== labels re-derived from {tar.name}: {len(table)} rows, {len(skipped)} skipped, "
          f"same index as bundle: {same}, order disagreements: {diff} "
          f"({time.perf_counter() - start:.0f} s)")
    print(table["order"].value_counts().to_string())
    return table


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", category=FutureWarning)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["frey", "screen", "campaign"],
                        choices=["frey", "screen", "campaign", "labels"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--surrogate", default="sisso", choices=["sisso", "gp", "rf"])
    parser.add_argument("--magndata-dir", type=Path, default=DEFAULT_MAGNDATA)
    args = parser.parse_args(argv)
    seeds = range(args.seeds)
    if "frey" in args.parts:
        part_frey()
    if "screen" in args.parts:
        part_screen(seeds)
    if "campaign" in args.parts:
        part_campaign(seeds, args.budget, args.batch_size, args.surrogate)
    if "labels" in args.parts:
        part_labels(args.magndata_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
