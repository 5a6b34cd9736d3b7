"""Stability-screening benchmark (issue 13): routes, formability, campaign, property map.

Parts (``--parts``, default all that have their data):

* ``routes`` -- E_hull of the Emery & Wolverton (2017) ABO3 table by (a) a SISSO law of the
  formation energy minus the tabulated hull energy (``E_f - E_hull``) and (b) a SISSO law of
  E_hull, on the same random 80/20 split: MAE / RMSE (meV/atom) and recovery of the stable
  materials (``E_hull <= 25 meV/atom``).
* ``formability`` -- Goldschmidt t, Bartel tau and a SISSO classifier on Bartel et al.'s
  (2019) train / test split.
* ``campaign`` -- "find all stable perovskites": random, greedy and target-window campaigns
  with the SISSO-ensemble surrogate on the 5,276 Emery ABO3 (``run_retrospective``);
  fraction of the 398 stable materials found vs budget (median and IQR over seeds).
* ``foppa`` -- bulk-modulus map of the 12,096 Foppa et al. (2024) candidates, scored on the
  150 DFT-verified double perovskites (needs ``--foppa-dir`` with the upstream
  ``candidates_for_screening.csv`` and ``DFT_calculations.csv``; skipped otherwise).

Run: ``.venv/bin/python -m benchmarks.bench_stability [--parts routes formability campaign
foppa] [--seeds 3] [--budget 400] [--batch-size 20] [--n-initial 20] [--surrogates sisso]
[--n-jobs 2] [--foppa-dir DIR]``
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sisso_lite.screening.stability import compare_routes, default_estimator
from sisso_lite.screening.stability_campaign import (
    emery_stability_pool,
    run_stability_benchmark,
    stability_strategies,
)
from sisso_lite.screening.stability_formability import formability_comparison
from sisso_lite.screening.stability_hull import TabulatedHull

RESULTS = Path(__file__).parent / "results"
DEFAULT_FOPPA = Path(__file__).resolve().parents[2] / "shared/data/" \
    "foppa2024_perovskite_subgroup_discovery"


def part_routes(seed: int) -> pd.DataFrame:
    """Route comparison on the full Emery table (80/20 split)."""
    from sisso_lite.datasets import load_emery_perovskites

    X, eh, _, units = load_emery_perovskites("stability", with_extra=True)
    ef = load_emery_perovskites("formation_energy", with_extra=True).y.loc[X.index]
    hull = TabulatedHull.from_emery()
    tables = []
    for n_dim, rung in ((2, 2), (3, 2), (3, 3)):
        start = time.perf_counter()
        est = default_estimator(units, seed, n_dim=n_dim, max_complexity=rung)
        table = compare_routes(X, ef, eh, hull, estimator=est, test_size=0.2,
                               random_state=seed)
        table.insert(0, "settings", f"{n_dim}D rung {rung}")
        table["fit_s"] = time.perf_counter() - start
        tables.append(table)
    out = pd.concat(tables)
    print(f"\n## Routes to E_hull: Emery ABO3, {len(X)} materials, 10 features, test 20 % "
          f"(seed {seed}), SISSO ensemble of 20, stable = E_hull <= 25 meV/atom")
    shown = out.drop(columns="law")
    print(shown.to_string(float_format=lambda v: f"{v:.3f}"))
    for (route, row) in out.iterrows():
        print(f"  {row.settings} {route}: {row.law}")
    return out


def part_formability() -> pd.DataFrame:
    table, _ = formability_comparison()
    print("\n## Perovskite formability: Bartel et al. 2019 (576 ABX3; train 460, test 116)")
    print(table.drop(columns="rule").to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"  SISSO rule: {table.loc['SISSO classifier', 'rule']}")
    return table


def part_campaign(args) -> pd.DataFrame:
    pool, _ = emery_stability_pool()
    strategies = {"random": {"acquisition": "random"}}
    for sur in args.surrogates:
        strategies.update({k: v for k, v in stability_strategies(surrogate=sur).items()
                           if k != "random"})
    checkpoints = tuple(c for c in (50, 100, 200, 300, 400, 600) if c <= args.budget)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        summary, traces, runs = run_stability_benchmark(
            pool, seeds=range(args.seeds), budget=args.budget, batch_size=args.batch_size,
            n_initial=args.n_initial, strategies=strategies, checkpoints=checkpoints,
            n_jobs=args.n_jobs)
    wall = time.perf_counter() - start
    per_round = runs.groupby("strategy", sort=False)["seconds_per_round"].median()
    summary["s_per_round"] = per_round.reindex(summary.index)
    cols = [f"f{c}_{q}" for c in checkpoints for q in ("median", "q25", "q75")]
    cols += ["n_found_median", f"ef{checkpoints[-1]}_median", "s_per_round"]
    print(f"\n## Find all stable perovskites: N={summary.attrs['n_pool']}, "
          f"K={summary.attrs['n_stable']} stable, seeds={args.seeds}, budget {args.budget}, "
          f"batches of {args.batch_size} ('top'), {args.n_initial} random initial; "
          f"{wall:.0f} s wall")
    print(summary[cols].to_string(float_format=lambda v: f"{v:.3f}"))
    for name, row in runs[runs.seed == 0].set_index("strategy").iterrows():
        if row.final_formula:
            print(f"  {name} (seed 0) ends with: {row.final_formula}")
    RESULTS.mkdir(exist_ok=True)
    summary.to_csv(RESULTS / "stability_campaign_summary.csv")
    traces.to_csv(RESULTS / "stability_campaign_traces.csv", index=False)
    return summary


def part_foppa(folder: Path, seed: int) -> pd.DataFrame | None:
    from sisso_lite.datasets import load_foppa_perovskites
    from sisso_lite.screening.stability import law_of
    from sisso_lite.screening.stability_map import (
        bulk_modulus_estimator,
        evaluate_map,
        load_foppa_candidates,
        property_map,
    )

    try:
        candidates, verified = load_foppa_candidates(folder)
    except FileNotFoundError as err:
        print(f"\n## Foppa property map: skipped ({err})")
        return None
    X, y, _, units = load_foppa_perovskites()
    start = time.perf_counter()
    table, est = property_map(X, y, candidates, bulk_modulus_estimator(units, seed))
    metrics, _ = evaluate_map(table, verified)
    print(f"\n## Bulk-modulus map: law fitted on the {len(X)} DFT ABO3, "
          f"{len(table)} candidates mapped, scored on the {len(verified)} DFT-verified "
          f"double perovskites (held out); {time.perf_counter() - start:.1f} s")
    print(f"  law: B = {law_of(est)}")
    print(metrics.to_string(float_format=lambda v: f"{v:.3f}"))
    print("  top 10 of the map:", ", ".join(table.index[:10]))
    return metrics


def main(argv: list[str] | None = None) -> int:
    """Run the selected parts; returns an exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["routes", "formability", "campaign",
                                                       "foppa"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=400)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--n-initial", type=int, default=20)
    parser.add_argument("--surrogates", nargs="+", default=["sisso"])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="split / ensemble seed")
    parser.add_argument("--foppa-dir", type=Path, default=DEFAULT_FOPPA)
    args = parser.parse_args(argv)
    pd.set_option("display.width", 220)
    np.set_printoptions(precision=4)
    start = time.perf_counter()
    if "routes" in args.parts:
        part_routes(args.seed)
    if "formability" in args.parts:
        part_formability()
    if "campaign" in args.parts:
        part_campaign(args)
    if "foppa" in args.parts:
        part_foppa(args.foppa_dir, args.seed)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
