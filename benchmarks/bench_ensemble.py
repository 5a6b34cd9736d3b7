"""Cost of a 100-member SISSO ensemble relative to one SISSO fit (target: <= 10x).

Octet binaries (82 materials, 14 primary features), max_complexity 3 (rung 2), 2D
descriptors, ``n_sis=100``; ensemble with bootstrap and 20 % feature dropout. Both timings
are warm (numba compiled by a first small fit); the single fit is the median of 3.

Run: ``.venv/bin/python -m benchmarks.bench_ensemble [--n-estimators 100] [--n-jobs 2]``
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from sisso_lite.datasets import load_octet_binaries
from sisso_lite.ensemble import SissoEnsemble
from sisso_lite.estimators import SissoRegressor

OPERATORS = ("+", "-", "*", "/", "exp", "exp-", "^-1", "^2", "^3", "sqrt", "cbrt", "log", "|-|")


def main(argv: list[str] | None = None) -> None:
    """Time one fit and one ensemble fit; print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-estimators", type=int, default=100)
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.add_argument("--n-sis", type=int, default=100)
    parser.add_argument("--max-complexity", type=int, default=3)
    args = parser.parse_args(argv)

    data = load_octet_binaries()
    X, y, units = (data.X, data.y, data.units) if hasattr(data, "X") else (
        data[0], data[1], data[-1])
    template = SissoRegressor(n_dim=2, max_complexity=args.max_complexity, n_sis=args.n_sis,
                              operators=OPERATORS, units=units, n_models=1)
    # warm up numba (compilation is not part of either timing)
    SissoEnsemble(SissoRegressor(**{**template.get_params(), "max_complexity": 1}),
                  n_estimators=2, random_state=0).fit(X, y)

    times = []
    for _ in range(3):  # median of 3: the machine is shared
        t0 = time.perf_counter()
        single = SissoRegressor(**template.get_params()).fit(X, y)
        times.append(time.perf_counter() - t0)
    t_single = float(np.median(times))

    t0 = time.perf_counter()
    ens = SissoEnsemble(template, n_estimators=args.n_estimators, feature_dropout=0.2,
                        random_state=0, n_jobs=args.n_jobs).fit(X, y)
    t_ens = time.perf_counter() - t0

    ratio = t_ens / t_single
    print(f"numba threads: {numba.get_num_threads()}, n_jobs: {args.n_jobs}")
    print(f"feature space per rung: {single.feature_space_size_}")
    print(f"single SISSO fit (2D, median of 3): {t_single:5.2f} s   {single.descriptors_}")
    print(f"ensemble of {args.n_estimators:3d} members:       {t_ens:8.2f} s   "
          f"({t_ens / args.n_estimators:.3f} s per member)")
    print(f"ratio ensemble / single fit:    {ratio:8.1f}x  (target <= 10x: "
          f"{'met' if ratio <= 10 else 'NOT met'})")
    top = ens.descriptor_frequency_.head(5)
    print("most frequent descriptors:\n" + top.to_string())


if __name__ == "__main__":
    main()
