"""``make demo``: a short stability-screening campaign on the bundled Emery ABO3 table.

Run ``python -m sisso_lite.cli.demo --output demo_output``. Sequential learning looks for
the stable perovskites (energy above the convex hull <= 25 meV/atom) among the 5,276 ABO3
of Emery & Wolverton, Sci. Data 4, 170153 (2017): a random initial design, then rounds of
a SISSO-ensemble surrogate and the target-window acquisition P(E_hull <= 25 meV/atom), the
table's DFT values playing the oracle. Then a SISSO law of E_hull (ensemble mean +- sigma)
is fitted on everything measured and ranks the unmeasured candidates. Prints the campaign,
the law and the ranked candidates; writes to the output folder:

* ``ranked_candidates.csv`` -- unmeasured candidates, lowest predicted E_hull first
  (formula, E_hull +- sigma in meV/atom, P(stable); plus the hidden DFT value)
* ``law.txt`` -- the law of the ensemble and of the best single model
* ``campaign_history.csv`` -- every measurement of the campaign
* ``models.csv``, ``model.json`` -- the single best SISSO model of E_hull (table, JSON)
* ``discovery.png`` -- stable materials found vs measurements, campaign and random
* ``ranking.png`` -- the top candidates with their sigma and the hidden DFT value
* ``parity.png`` -- the law against DFT on the unmeasured candidates
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

STABLE = 0.025  # eV/atom


def _plots(history: pd.DataFrame, n_stable: int, n_pool: int, ranked: pd.DataFrame,
           truth: pd.Series, mu: np.ndarray, out: Path, top: int) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = [out / "discovery.png", out / "ranking.png", out / "parity.png"]
    steps = np.arange(1, len(history) + 1)
    found = np.cumsum(history["value"].to_numpy() <= STABLE)
    fig, ax = plt.subplots(figsize=(4.8, 3.6))
    ax.plot(steps, found, lw=2, label="SISSO ensemble + window acquisition")
    ax.plot(steps, steps * n_stable / n_pool, "k--", lw=1, label="random (expected)")
    ax.set(xlabel="DFT calculations (measurements)", ylabel="stable perovskites found",
           title=f"Emery ABO3: {n_stable} of {n_pool} within 25 meV/atom")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    fig.savefig(paths[0], dpi=150)
    plt.close(fig)

    head = ranked.head(top)
    y = np.arange(len(head))[::-1]
    fig, ax = plt.subplots(figsize=(5.2, 0.22 * len(head) + 1.2))
    ax.errorbar(head["E_hull_meV"], y, xerr=head["sigma_meV"], fmt="o", ms=4, capsize=2,
                label="predicted ± σ")
    ax.scatter(head["DFT_E_hull_meV (hidden)"], y, marker="x", c="tab:red", zorder=3,
               label="DFT (hidden)")
    ax.axvline(STABLE * 1000, c="0.4", ls=":", lw=1)
    ax.set_yticks(y, head["formula"], fontsize=7)
    ax.set(xlabel="E_hull (meV/atom)", title="top candidates of the screen")
    ax.legend(frameon=False, fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(paths[1], dpi=150)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    ax.scatter(truth, mu, s=4, alpha=0.4)
    lo, hi = float(min(truth.min(), mu.min())), float(max(truth.max(), mu.max()))
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
    rmse = float(np.sqrt(np.mean((mu - truth.to_numpy()) ** 2)))
    ax.set(xlabel="DFT E_hull (eV/atom)", ylabel="SISSO law (eV/atom)",
           title=f"{len(truth)} unmeasured candidates, RMSE {rmse:.3f} eV/atom")
    fig.tight_layout()
    fig.savefig(paths[2], dpi=150)
    plt.close(fig)
    return paths


def run_demo(output: str | Path = "demo_output", *, budget: int = 300, batch_size: int = 20,
             n_initial: int = 20, n_estimators: int = 30, n_dim: int = 3,
             max_complexity: int = 3, n_sis: int = 20, top: int = 15,
             random_state: int = 0) -> dict:
    """Run the demo campaign and screen; returns what it printed as a dict.

    Parameters
    ----------
    output : path
        Folder for the CSV, JSON and PNG files (created).
    budget, batch_size, n_initial : int
        Campaign: DFT calculations in total, per round, in the random initial design.
    n_estimators, n_dim, max_complexity, n_sis : int
        The final SISSO law (ensemble size, descriptor dimension, rung, SIS size).
    top : int
        Candidates printed and plotted.
    random_state : int

    Returns
    -------
    dict
        ``ranked`` (DataFrame), ``law`` (str), ``n_found`` (stable found by the campaign),
        ``n_random`` (expected for random picking), ``files`` (paths written), ``seconds``.
    """
    from sisso_lite import SissoEnsemble, SissoRegressor
    from sisso_lite.screening.stability import StabilityScreen
    from sisso_lite.screening.stability_campaign import emery_stability_pool, find_stable_campaign

    start = time.perf_counter()
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    pool, units = emery_stability_pool()
    n_pool, n_stable = len(pool), int((pool["E_hull"] <= STABLE).sum())
    print(f"Emery & Wolverton (2017) ABO3: {n_pool} compositions, {n_stable} stable "
          f"(E_hull <= 25 meV/atom); features {list(units)}")
    print(f"campaign: {n_initial} random DFT calculations, then rounds of {batch_size} chosen "
          f"by P(E_hull <= 25 meV/atom) under a SISSO ensemble; budget {budget}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        camp = find_stable_campaign(pool, budget=budget, batch_size=batch_size,
                                    n_initial=n_initial, random_state=random_state)
    history = camp.history_
    n_found = int((history["value"] <= STABLE).sum())
    n_random = budget * n_stable / n_pool
    print(f"  found {n_found} stable perovskites in {len(history)} calculations "
          f"(random picking: {n_random:.1f} expected)\n")

    measured = pool.loc[history["pool_index"]]
    rest = pool.drop(index=history["pool_index"])
    features = list(units)
    ops = ("+", "-", "*", "/", "exp", "^-1", "^2", "sqrt", "log", "|-|")
    template = SissoRegressor(n_dim=n_dim, max_complexity=max_complexity, n_sis=n_sis,
                              n_models=1, units=units, operators=ops)
    ensemble = SissoEnsemble(template, n_estimators=n_estimators,
                             feature_dropout=0.2, predictive_std="mixture",
                             calibrate="sigma", random_state=random_state)
    screen = StabilityScreen(route="hull", estimator=ensemble, units=units)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        screen.fit(measured[features], measured["E_hull"])
        best = SissoRegressor(n_dim=n_dim, max_complexity=max_complexity, n_sis=n_sis,
                              n_models=5, units=units, operators=ops).fit(measured[features],
                                                           measured["E_hull"])
    ranked = screen.screen(rest[features].assign(formula=rest.index))
    truth = rest["E_hull"]
    ranked["DFT_E_hull_meV (hidden)"] = truth.loc[ranked["formula"]].to_numpy() * 1000
    mu = screen.predict(rest[features])
    hits_top = float((ranked["DFT_E_hull_meV (hidden)"].head(top) <= STABLE * 1000).mean())

    print(f"law (SISSO ensemble of {n_estimators}, fitted on the {len(measured)} measured; "
          "its most frequent descriptor set):")
    print(f"  {screen.law_}")
    print(f"best single model: E_hull = {best.sympy()}")
    table = best.models_
    shown = table[table["rank"] == 1].assign(**{
        "RMSE (eV/atom)": lambda t: t["rmse"].map(lambda v: f"{v:.4f}")})
    print(shown[["dimension", "descriptors", "RMSE (eV/atom)"]].to_string(index=False))
    print(f"\nranked candidates (top {top} of {len(ranked)} unmeasured; energies in meV/atom):")
    cols = ["formula", "E_hull_meV", "sigma_meV", "P_stable", "DFT_E_hull_meV (hidden)"]
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(ranked[cols].head(top).round({"E_hull_meV": 0, "sigma_meV": 0, "P_stable": 3,
                                            "DFT_E_hull_meV (hidden)": 0}).to_string())
    print(f"  {hits_top:.0%} of the top {top} are stable by DFT "
          f"(base rate of the unmeasured: {float((truth <= STABLE).mean()):.1%})")

    files = [out / "ranked_candidates.csv", out / "campaign_history.csv", out / "models.csv",
             out / "law.txt"]
    ranked.drop(columns="law").to_csv(files[0])  # the law once, in law.txt
    history.to_csv(files[1], index=False)
    table.to_csv(files[2], index=False)
    files[3].write_text(f"{screen.law_}\nbest single model: E_hull = {best.sympy()}\n")
    files.append(best.to_json(out / "model.json"))
    files += _plots(history, n_stable, n_pool, ranked, truth, mu, out, top)
    seconds = time.perf_counter() - start
    print(f"\nSaved {', '.join(str(f) for f in files)} ({seconds:.0f} s)")
    return {"ranked": ranked, "law": screen.law_, "n_found": n_found, "n_random": n_random,
            "files": files, "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns a process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="demo_output", help="folder for results")
    parser.add_argument("--budget", type=int, default=300, help="DFT calculations in total")
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--n-initial", type=int, default=20)
    parser.add_argument("--n-estimators", type=int, default=30, help="members of the law")
    parser.add_argument("--n-dim", type=int, default=3)
    parser.add_argument("--max-complexity", type=int, default=3)
    parser.add_argument("--n-sis", type=int, default=20)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    run_demo(args.output, budget=args.budget, batch_size=args.batch_size,
             n_initial=args.n_initial, n_estimators=args.n_estimators, n_dim=args.n_dim,
             max_complexity=args.max_complexity, n_sis=args.n_sis, top=args.top,
             random_state=args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
