"""Strong scaling of the distributed last-rung SIS on a Dask LocalCluster, and a projection.

For the rung-3 reference configuration ``octet14_r3c4_d2`` (``tests/data/sisso_reference``,
25.7 M candidates, 82 samples) this prints

* the wall time of one full SIS (``FeatureSpace.screen``, ``n_sis`` of the config) serially
  in this process (1 numba thread) and under ``joblib.parallel_config(backend="dask")`` on a
  ``LocalCluster`` of 1 and 2 worker processes (1 thread each), with the check that the
  selected features and scores equal the serial ones;
* the peak RSS of every worker (``ru_maxrss``, read on the worker) and the bytes shipped to
  each worker (the payload) and returned per block (its top ``keep`` candidates);
* the measured cost of every block (each block run in this process, 1 thread) and a
  projection to 8 / 64 / 512 workers with ``n_b = max(n_blocks, 4 P)`` blocks:
  ``T(P) = T_serial + W / n_b + (W - W / n_b) / P + n_b t_task + P payload / B + n_b r / B``
  with ``W`` the summed block cost, ``W / n_b`` the pilot block (run by the caller first),
  ``T_serial`` the part of a screen that stays in the caller (stored rungs, merge, selection),
  ``t_task`` the scheduler's time per task (measured: 200 trivial tasks), ``B`` the network
  bandwidth (1.25 GB/s, 10 Gbit/s) and ``r`` the bytes of one block's result;
* optionally (``--billion``) a 10^9-candidate rung-3 screen of random data (100 samples)
  with its time and peak memory (``ru_maxrss`` of this process).

Run: ``.venv/bin/python -m benchmarks.bench_scaling`` (options ``--billion``,
``--blocks N``). Writes the tables to ``benchmarks/results/scaling.md`` too.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "scaling.md"
BANDWIDTH = 1.25e9  # bytes/s, 10 Gbit/s network


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _space_and_scorer(name: str = "octet14_r3c4_d2"):
    from benchmarks.bench_sisso import load
    from sisso_lite.features import FeatureSpace
    from sisso_lite.solvers.sis import PearsonScorer

    problem, est = load(name)
    space = FeatureSpace(est.operators, max_complexity=est.max_complexity,
                         max_abs_value=est.max_abs_value, min_abs_value=est.min_abs_value,
                         fortran_compatible=est.fortran_compatible)  # fmt: skip
    space.build(problem.X, units=est.units)
    return space, PearsonScorer(np.asarray(problem.y, float)), int(est.n_sis)


def _key(result) -> list[tuple[str, float]]:
    return [(str(f.expression), f.score) for f in result]


def _timed_screen(space, scorer, n_sis, repeat: int = 2):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = space.screen(scorer, n_sis)
        best = min(best, time.perf_counter() - t0)
    return best, out


def block_costs(space, scorer, n_sis: int) -> dict:
    """Each block of the distributed screen run here (1 thread): seconds and bytes."""
    from sisso_lite.features.distributed import _Payload, _screen_block, block_ranges
    from sisso_lite.features.screening import _allowed_features, _keep_size, _LastRung

    allowed = _allowed_features(space, None)
    keep = _keep_size(n_sis, 0)
    last = _LastRung(space, space._rung_inputs(), allowed, keep, scorer.fast_path())
    bounds = block_ranges(last, space._storage, 2)
    payload = _Payload(last, space._storage)
    secs, n_valid, threshold = [], 0, -np.inf
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        t0 = time.perf_counter()
        res = _screen_block(payload, int(lo), int(hi), 1, threshold)
        secs.append(time.perf_counter() - t0)
        n_valid += res[0]
        if threshold == -np.inf and len(res[1]) == keep:  # the pilot block's bound
            threshold = float(res[1][-1])
    return {"seconds": np.array(secs), "n_blocks": len(secs), "n_valid": n_valid,
            "payload": payload.__sizeof__(), "result": keep * 32}  # fmt: skip


def run_cluster(space, scorer, n_sis, n_workers: int) -> tuple[float, list, list[float]]:
    from dask.distributed import Client, LocalCluster
    from joblib import parallel_config

    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=None, host="127.0.0.1") as cluster, \
            Client(cluster) as client:  # fmt: skip
        with parallel_config(backend="dask"):
            seconds, out = _timed_screen(space, scorer, n_sis)
        rss = client.run(_rss_mb)
        t0 = time.perf_counter()
        client.gather(client.map(int, range(200)))
        t_task = (time.perf_counter() - t0) / 200
    return seconds, out, list(rss.values()), t_task


def projection(costs: dict, t_serial_part: float, t_task: float) -> list[tuple]:
    """Projected SIS time on ``P`` workers (blocks re-split to ``max(n_blocks, 4 P)``)."""
    w = costs["seconds"].sum()
    rows = []
    for p in (1, 2, 8, 64, 512):
        n_b = max(costs["n_blocks"], 4 * p)
        pilot = w / n_b  # the first block runs in the caller, before the others
        compute = pilot + (w - pilot) / p
        sched = n_b * t_task  # one central scheduler: tasks are not handled in parallel
        comm = p * costs["payload"] / BANDWIDTH + n_b * costs["result"] / BANDWIDTH
        total = t_serial_part + compute + sched + comm
        limit = max((("compute", compute), ("scheduler", sched), ("network", comm),
                     ("serial part", t_serial_part)), key=lambda kv: kv[1])[0]  # fmt: skip
        rows.append((p, n_b, compute, sched, comm, total, (w + t_serial_part) / total, limit))
    return rows


def billion(n_samples: int = 100, n_primary: int = 18, seed: int = 0) -> dict:
    """A ~10^9-candidate rung-3 screen of random data (one SIS, all threads)."""
    from sisso_lite.features import FeatureSpace
    from sisso_lite.solvers.sis import PearsonScorer

    rng = np.random.default_rng(seed)
    X = rng.uniform(0.5, 2.0, (n_samples, n_primary))
    y = X[:, 0] * X[:, 1] / X[:, 2] + 0.01 * rng.standard_normal(n_samples)
    t0 = time.perf_counter()
    space = FeatureSpace(("+", "-", "*", "/", "^-1", "^2", "sqrt", "|-|"),
                         max_complexity=4).build(X)  # fmt: skip
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = space.screen(PearsonScorer(y), 100)
    t_sis = time.perf_counter() - t0
    return {"sizes": space.n_features_per_rung_, "build": t_build, "sis": t_sis,
            "rate": space.n_features_per_rung_[-1] / t_sis, "rss_mb": _rss_mb(),
            "best": str(out[0].expression)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    import numba

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--billion", action="store_true", help="also the 10^9 screen")
    parser.add_argument("--blocks", type=int, default=None, help="SISSO_LITE_SIS_BLOCKS")
    parser.add_argument("--primary", type=int, default=18, help="--billion: primary features")
    args = parser.parse_args(argv)
    if args.blocks:
        os.environ["SISSO_LITE_SIS_BLOCKS"] = str(args.blocks)
    lines = []

    def emit(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    space, scorer, n_sis = _space_and_scorer()
    numba.set_num_threads(1)
    t1, ref = _timed_screen(space, scorer, n_sis)
    n_cand = space.n_features_per_rung_[-1]  # counted by the first screen
    # the part that stays in the calling process: stored rungs + merge + selection
    t0 = time.perf_counter()
    costs = block_costs(space, scorer, n_sis)
    t_blocks = time.perf_counter() - t0
    t_serial_part = max(t1 - costs["seconds"].sum(), 0.0)
    emit(f"## octet14_r3c4_d2: {n_cand:,} candidates, {space.n_samples_} samples, "
         f"n_sis={n_sis}, {costs['n_blocks']} blocks")  # fmt: skip
    emit()
    emit("| run | workers | SIS wall (s) | speed-up | Mcand/s | identical | worker peak RSS (MB) |")
    emit("|---|---|---|---|---|---|---|")
    emit(f"| serial, this process | 1 thread | {t1:.2f} | 1.00 | {n_cand / t1 / 1e6:.1f} | - | "
         f"{_rss_mb():.0f} (this process) |")  # fmt: skip
    t_task = 0.0
    for p in (1, 2):
        tp, out, rss, t_task = run_cluster(space, scorer, n_sis, p)
        same = _key(out) == _key(ref)
        emit(f"| dask LocalCluster | {p} x 1 thread | {tp:.2f} | {t1 / tp:.2f} | "
             f"{n_cand / tp / 1e6:.1f} | {same} | {', '.join(f'{r:.0f}' for r in rss)} |")
    emit()
    sec = costs["seconds"]
    emit(f"blocks: {costs['n_blocks']}, cost per block {sec.mean() * 1e3:.0f} ms mean, "
         f"{sec.max() * 1e3:.0f} ms max (sum {sec.sum():.2f} s of {t_blocks:.2f} s); payload "
         f"{costs['payload'] / 1e6:.1f} MB per worker, result {costs['result'] / 1e3:.0f} kB "
         f"per block; serial part {t_serial_part:.2f} s; task overhead {t_task * 1e3:.1f} ms")
    emit()
    emit("| workers | blocks | compute (s) | scheduler (s) | network (s) | total (s) | speed-up "
         "| limit |")
    emit("|---|---|---|---|---|---|---|---|")
    for p, n_b, comp, sched, comm, total, speed, limit in projection(costs, t_serial_part,
                                                                      t_task):
        emit(f"| {p} | {n_b} | {comp:.3f} | {sched:.3f} | {comm:.3f} | {total:.3f} | "
             f"{speed:.1f} | {limit} |")
    if args.billion:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        b = billion(n_primary=args.primary)
        emit()
        emit(f"## 10^9 screen: sizes {b['sizes']}, build {b['build']:.1f} s, SIS {b['sis']:.1f} s "
             f"({b['rate'] / 1e6:.1f} Mcand/s, {numba.get_num_threads()} threads), peak RSS "
             f"{b['rss_mb']:.0f} MB; best {b['best']}")  # fmt: skip
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
