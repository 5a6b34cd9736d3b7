"""``make demo``: fit SISSO on the bundled octet binaries and report the models.

Run ``python -m sisso_lite.cli.demo --output demo_output``. Prints the model table
(dimension, descriptor formulas, coefficients, RMSE, MaxAE), saves it as CSV,
saves the best model as JSON and a parity plot as PNG.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def _parity_plot(y, predictions: dict[int, np.ndarray], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for dim, y_pred in predictions.items():
        rmse = float(np.sqrt(np.mean((y - y_pred) ** 2)))
        ax.scatter(y, y_pred, s=14, label=f"{dim}D  RMSE {rmse:.3f} eV")
    lo, hi = float(np.min(y)), float(np.max(y))
    pad = 0.05 * (hi - lo)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], "k--", lw=0.8)
    ax.set_xlabel(r"DFT $E_\mathrm{RS}-E_\mathrm{ZB}$ (eV)")
    ax.set_ylabel("SISSO prediction (eV)")
    ax.set_title("Octet binaries (82), SISSO rung 2")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns a process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="demo_output", help="folder for results")
    parser.add_argument("--n-dim", type=int, default=3)
    parser.add_argument("--max-complexity", type=int, default=3)
    parser.add_argument("--n-sis", type=int, default=100)
    args = parser.parse_args(argv)

    import pandas as pd

    from sisso_lite.datasets import load_octet_binaries
    from sisso_lite.estimators import SissoRegressor

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    X, y, _materials, units = load_octet_binaries()
    model = SissoRegressor(
        n_dim=args.n_dim,
        max_complexity=args.max_complexity,
        n_sis=args.n_sis,
        units=units,
        operators=("+", "-", "*", "/", "exp", "exp-", "^-1", "^2", "^3",
                   "sqrt", "cbrt", "log", "|-|"),
        n_models=1,
    )
    start = time.perf_counter()
    model.fit(X, y)
    elapsed = time.perf_counter() - start

    table = model.models_
    best = table[table["rank"] == 1]
    shown = pd.DataFrame({
        "dim": best["dimension"],
        "descriptors": ["; ".join(d) for d in best["descriptors"]],
        "coefficients": [" ".join(f"{c:+.4g}" for c in cs) for cs in best["coefficients"]],
        "intercept": best["intercept"].map(lambda v: f"{v:+.4g}"),
        "RMSE (eV)": best["rmse"].map(lambda v: f"{v:.4f}"),
        "MaxAE (eV)": best["maxae"].map(lambda v: f"{v:.4f}"),
    })
    with pd.option_context("display.max_colwidth", 200, "display.width", 250):
        print(f"SISSO on {len(y)} octet binaries (E_RS - E_ZB); feature space per rung: "
              f"{model.feature_space_size_}; fit in {elapsed:.1f} s\n")
        print(shown.to_string(index=False))
    table.to_csv(out / "models.csv", index=False)
    predictions = {dim: model.predict(X, dim=dim) for dim in sorted(set(best["dimension"]))}
    _parity_plot(np.asarray(y), predictions, out / "parity.png")
    if hasattr(model, "to_json"):
        model.to_json(out / "model.json")
    print(f"\nSaved {out / 'models.csv'}, {out / 'parity.png'}"
          + (f", {out / 'model.json'}" if hasattr(model, "to_json") else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
