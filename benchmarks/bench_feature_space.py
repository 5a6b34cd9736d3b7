"""Feature-space construction + last-rung screening speed, and exactness on the big reference.

Checks ``octet14_r3c4_d2`` (Fortran SISSO v3.5: 14 / 473 / 168,217 / 25,712,813 features,
nf_sis = 1000, dimensions 1 and 2) and prints build / screen time, features per second and
peak memory (tracemalloc: Python + NumPy allocations; ru_maxrss: whole process).

Run: ``.venv/bin/python -m benchmarks.bench_feature_space`` (exit code 1 on a mismatch).
"""

from __future__ import annotations

import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_features_reference import load_reference  # noqa: E402

from sisso_lite.features import FeatureSpace  # noqa: E402
from sisso_lite.solvers.sis import PearsonScorer  # noqa: E402


def _warm_up() -> None:
    """Compile (or load from cache) the kernels outside the timed region."""
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 2, size=(20, 3))
    space = FeatureSpace(["+", "-", "*", "/", "^-1", "^2", "sqrt", "|-|"], max_complexity=4)
    space.build(X, ["a", "b", "c"], ["eV", "eV", "Angstrom"])
    space.screen(PearsonScorer(rng.normal(size=20)), 5)


def _compare(selected, reference) -> tuple[int, float]:
    same = sum(str(f.expression) == name for f, (name, _) in zip(selected, reference, strict=True))
    err = max(abs(f.score - s) for f, (_, s) in zip(selected, reference, strict=True))
    return same, err


def run_case(name: str, dims: int) -> bool:
    ref = load_reference(name)
    space, y = ref["space"], ref["y"]
    tracemalloc.start()
    t0, c0 = time.perf_counter(), time.process_time()
    space.build(ref["X"], list(ref["X"].columns), ref["units"])
    t_build, c_build = time.perf_counter() - t0, time.process_time() - c0
    residual = y - y.mean()
    exclude: set[str] = set()
    ok = True
    storage = space.tables.storage
    print(f"{name}: build {t_build:.2f} s wall / {c_build:.2f} s CPU, stored "
          f"{space.n_stored_:,} features ({storage.nbytes / 2**20:.0f} MB of values held, "
          f"{storage.n_virtual:,} of them computed on demand)")
    for dim in range(1, dims + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        selected = space.screen(PearsonScorer(residual), ref["nsis"], exclude=exclude)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        n_last = space.n_features_per_rung_[-1] - space.n_stored_
        same, err = _compare(selected, ref["lists"][dim - 1])
        ok &= same == len(ref["lists"][dim - 1]) and err < 1e-4
        print(f"  dim {dim}: screen {wall:.2f} s wall / {cpu:.2f} s CPU, "
              f"{n_last / cpu / 1e6:.1f} M last-rung features/s (CPU); "
              f"SIS list {same}/{len(ref['lists'][dim - 1])} identical, max |score diff| {err:.1e}")
        exclude |= {f.expression.key for f in selected}
        design = np.c_[selected[0].values, np.ones_like(y)]  # best 1D model = best |r|
        if dim == 1:
            residual = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
        else:
            break
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    sizes_ok = space.n_features_per_rung_ == ref["sizes"][: len(space.n_features_per_rung_)]
    ok &= sizes_ok
    print(f"  sizes per rung {space.n_features_per_rung_} (Fortran {ref['sizes'][:4]}): "
          f"{'identical' if sizes_ok else 'DIFFERENT'}")
    print(f"  peak memory: tracemalloc {peak / 2**20:.0f} MB, "
          f"ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return ok


def main() -> int:
    _warm_up()
    ok = run_case("octet14_r2_d3", dims=2)
    ok &= run_case("octet14_r3c4_d2", dims=2)
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
