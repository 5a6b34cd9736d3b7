"""Models per second of the exact L0 search: numba kernel vs the itertools/lstsq reference.

Run: ``NUMBA_NUM_THREADS=1 .venv/bin/python benchmarks/bench_l0.py`` (per core) or without the
variable (all cores).
"""

from __future__ import annotations

import time
from math import comb

import numba
import numpy as np

from sisso_lite.solvers.l0 import l0_search
from sisso_lite.solvers.l0_reference import l0_search_numpy


def _rate(fn, m, dim, **kw):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(82, m))
    y = rng.normal(size=82)
    fn(X[:, : dim + 2], y, dim, **kw)  # compile / warm up
    t0 = time.perf_counter()
    fn(X, y, dim, **kw)
    dt = time.perf_counter() - t0
    return comb(m, dim) / dt, dt


def main() -> None:
    print(f"numba threads: {numba.get_num_threads()}")
    for m, dim, kw in [
        (600, 3, {}),
        (300, 3, {"metric": "maxae"}),
        (600, 3, {"tasks": np.arange(82) % 2}),  # 2 tasks
        (150, 4, {}),
    ]:
        rate, dt = _rate(l0_search, m, dim, n_models=100, **kw)
        label = ", ".join(f"{key}" for key in kw) or "rmse"
        print(f"numba  m={m} dim={dim} {label}: {rate / 1e6:8.2f} M models/s ({dt:.2f} s)")
    rate, dt = _rate(l0_search_numpy, 40, 3, n_models=100)
    print(f"numpy  m=40 dim=3: {rate / 1e6:8.4f} M models/s ({dt:.2f} s)")


if __name__ == "__main__":
    main()
