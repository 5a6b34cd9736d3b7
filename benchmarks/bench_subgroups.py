"""Benchmark: sisso_lite.subgroups vs pysubgroup 0.9.0 (and realkd if installed).

Task: mean shift ``cov^a (mean_S - mean_P)`` with ``a = 1``, depth 3, top 10, 10 cut points
per feature, on (i) the 82 octet binaries (target E_RS - E_ZB), (ii) 20,000 x 20 synthetic
rows with a planted 3-condition subgroup (~8% coverage), (iii) the same with 100,000 rows.
pysubgroup gets exactly our selectors (``x <= c`` as ``IntervalSelector(-inf,
nextafter(c))``, ``x >= c`` as ``IntervalSelector(c, inf)``). Every run is a fresh
subprocess with a wall-time cap; peak memory is the growth of the process' maximum RSS
during the run. realkd (``CoreQueryTreeSearch``, best-bound-first) returns only the top-1
rule on its own (pandas ``qcut``) selectors.

Usage::

    .venv/bin/python benchmarks/bench_subgroups.py [--timeout 120] [--quick]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OCTET = ROOT / "tests" / "data" / "octet_binaries_82.csv"
DEPTH, TOP_K, N_CUT = 3, 10, 10


def load(name: str):
    """Return X, y, planted mask (or None) for a dataset name."""
    from sisso_lite.subgroups import equal_frequency_cutpoints

    if name == "octet":
        df = pd.read_csv(OCTET)
        X = df.drop(columns=["material", "A", "B", "dE_RS_ZB_eV"])
        return X, df.dE_RS_ZB_eV.to_numpy(), None
    n = int(name.split("_")[1])
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.random((n, 20)), columns=[f"x{i}" for i in range(20)])
    c = [equal_frequency_cutpoints(X[f"x{i}"].to_numpy(), N_CUT) for i in range(3)]
    inside = ((X.x0 >= c[0][6]) & (X.x1 <= c[1][6]) & (X.x2 >= c[2][6])).to_numpy()
    y = 0.5 * rng.normal(size=n) + 2.0 * inside
    return X, y, inside


def _selectors(X):
    from sisso_lite.subgroups import make_selectors

    return make_selectors(X, n_cutpoints=N_CUT)


def _to_ps(sel):
    import pysubgroup as ps

    if sel.op == "<=":
        return ps.IntervalSelector(sel.feature, -np.inf, np.nextafter(sel.value, np.inf))
    return ps.IntervalSelector(sel.feature, sel.value, np.inf)


def run_ours(X, y, dedupe):
    from sisso_lite.subgroups import SubgroupDiscovery

    m = SubgroupDiscovery(quality="mean_shift", depth=DEPTH, top_k=TOP_K, n_cutpoints=N_CUT,
                          dedupe=dedupe).fit(X, y)
    q = m.subgroups_.quality.to_numpy() * len(y)  # pysubgroup scale (|S| instead of cov)
    return q, lambda: m.predict(X)


def run_pysubgroup(X, y, algo):
    import pysubgroup as ps

    data = X.copy()
    data["target__"] = y
    sels = [_to_ps(s) for s in _selectors(X)]
    task = ps.SubgroupDiscoveryTask(data, ps.NumericTarget("target__"), sels,
                                    ps.StandardQFNumeric(1.0), result_set_size=TOP_K,
                                    depth=DEPTH)
    alg = {"BestFirstSearch": ps.BestFirstSearch, "DFSNumeric": ps.DFSNumeric,
           "Apriori": lambda: ps.Apriori(use_numba=True)}[algo]()
    res = alg.execute(task)
    results = sorted(res.results, key=lambda t: -t[0])
    q = np.array([r[0] for r in results])
    return q, lambda: np.asarray(results[0][1].covers(data), dtype=bool)


def run_realkd(X, y):
    from realkd.search import Context, CoreQueryTreeSearch

    order = np.argsort(-y, kind="stable")
    Xs = X.iloc[order].reset_index(drop=True)
    ys = y[order]
    m, mu = len(y), y.mean()
    ctx = Context.from_df(Xs, max_col_attr=2 * N_CUT)

    def obj(ext):
        return len(ext) / m * (ys[ext].mean() - mu) if len(ext) else -np.inf

    def bnd(ext):
        if len(ext) == 0:
            return -np.inf
        return float((np.cumsum(ys[ext]) - np.arange(1, len(ext) + 1) * mu).max() / m)

    q = CoreQueryTreeSearch(ctx, obj, bnd, order="bestboundfirst", max_depth=DEPTH).run()

    def members():
        best = np.zeros(m, dtype=bool)
        best[order] = Xs.apply(q, axis=1).to_numpy(dtype=bool)
        return best

    return None, members


def _child(conn, tool, dataset):
    try:
        X, y, planted = load(dataset)
        if tool.startswith("sisso_lite"):
            run_ours(X.iloc[:50], y[:50], True)  # compile / load the Numba cache first
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0, c0 = time.perf_counter(), time.process_time()
        if tool == "sisso_lite":
            q, best = run_ours(X, y, dedupe=False)
        elif tool == "sisso_lite (dedupe)":
            q, best = run_ours(X, y, dedupe=True)
        elif tool == "realkd":
            q, best = run_realkd(X, y)
        else:
            q, best = run_pysubgroup(X, y, tool.split(".")[1])
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
        best = best()
        if q is None:  # realkd: top-1 only, quality in pysubgroup scale
            q = np.array([len(y) * best.mean() * (y[best].mean() - y.mean())])
        found = None if planted is None else bool(np.array_equal(best, planted))
        conn.send(("ok", wall, cpu, peak, q.tolist(), found))
    except Exception as exc:  # report the failure in the table
        conn.send(("error", f"{type(exc).__name__}: {exc}", traceback.format_exc()))


def measure(tool, dataset, timeout):
    ctx = mp.get_context("spawn")
    a, b = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(b, tool, dataset))
    p.start()
    if a.poll(timeout + 120 if tool.startswith("sisso_lite") else timeout):
        out = a.recv()
    else:
        out = ("timeout",)
    p.kill()
    p.join()
    return out


TOOLS = ["sisso_lite", "sisso_lite (dedupe)", "pysubgroup.BestFirstSearch",
         "pysubgroup.DFSNumeric", "pysubgroup.Apriori", "realkd"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--timeout", type=float, default=120.0, help="wall-time cap per peer run (s)")
    ap.add_argument("--quick", action="store_true", help="octet and 20k only")
    args = ap.parse_args()
    datasets = ["octet", "synthetic_20000"] + ([] if args.quick else ["synthetic_100000"])
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()}")
    try:
        import realkd  # noqa: F401
    except ImportError:
        TOOLS.remove("realkd")
        print("realkd: not importable, skipped")
    rows = []
    for ds in datasets:
        ref_q = None
        for tool in TOOLS:
            out = measure(tool, ds, args.timeout)
            if out[0] == "ok":
                _, wall, cpu, peak, q, found = out
                if tool == "sisso_lite":
                    ref_q = np.array(q)
                same = "-"
                if tool.startswith("pysubgroup") and ref_q is not None:
                    same = "yes" if len(q) == len(ref_q) and np.allclose(q, ref_q, rtol=1e-9) \
                        else "no"
                planted = "n/a" if found is None else ("yes" if found else "no")
                note = "top-1 only, own qcut selectors" if tool == "realkd" else ""
                rows.append((ds, tool, f"{wall:.3f}", f"{cpu:.3f}", f"{peak:.0f}", same, planted,
                             note))
            elif out[0] == "timeout":
                rows.append((ds, tool, f">{args.timeout:.0f}", "-", "-", "-", "-",
                             f"skipped: no result within {args.timeout:.0f} s wall"))
            else:
                rows.append((ds, tool, "-", "-", "-", "-", "-", "error: " + out[1][:60]))
            print(" | ".join(rows[-1]), flush=True)
    print()
    hdr = ("dataset", "tool", "wall [s]", "CPU [s]", "peak mem [MB]", "same top-10",
           "planted found", "note")
    print("| " + " | ".join(hdr) + " |")
    print("|" + "---|" * len(hdr))
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print()
    for ds in datasets:
        ours = [r for r in rows if r[0] == ds and r[1] == "sisso_lite" and r[2][0] != ">"]
        peers = [r for r in rows if r[0] == ds and r[1].startswith("pysubgroup")
                 and r[5] == "yes"]
        if ours and peers:
            fw = min(float(r[2]) for r in peers) / float(ours[0][2])
            fc = min(float(r[3]) for r in peers) / float(ours[0][3])
            print(f"{ds}: fastest exact peer with identical top-10 vs sisso_lite: "
                  f"{fw:.0f}x wall, {fc:.0f}x CPU")
        elif ours:
            print(f"{ds}: no exact peer finished within {args.timeout:.0f} s wall "
                  f"(speed-up > {args.timeout / float(ours[0][2]):.0f}x wall)")

if __name__ == "__main__":
    main()
