"""The exact L0 search split into ranges of combinations, run as joblib tasks (e.g. on Dask).

:func:`sisso_lite.solvers.l0.l0_search` enumerates the ``C(m, k)`` ``k``-subsets of the ``m``
candidate columns in lexicographic order and splits the ranks into ``n_blocks`` contiguous
blocks of ``per = ceil(C(m, k) / n_blocks)`` combinations; each block keeps its best
``n_models`` in its own heap (:func:`.l0_kernels._l0_block`), and the heaps are merged by one
``lexsort`` on ``(error, indices)``. Here the same blocks are grouped into contiguous
*ranges* of whole blocks (:func:`combination_ranges`); each range is one joblib task that runs
its blocks with the same kernel on the same inputs (Gram matrix, cross products, scales, all
computed once by the caller) and returns only its best ``n_models`` by the same key. The
ranges come back in range order, in the same ``(errors, indices, sizes)`` layout as the
serial kernel, and ``l0_search`` merges and refits them as before.

Why it is bit-identical: every block is searched exactly as in the serial search (same
ranks, same heap, same arithmetic), so the union of the block heaps is the same set of
candidates; the key ``(error, indices)`` is a total order (indices differ between
combinations), so the best ``n_models`` of the union of each range's best ``n_models`` are
the best ``n_models`` of the union itself, in the same order. This holds with exactly equal
errors too (duplicated columns): which tied models a block keeps depends only on the block,
never on the range it is grouped in. Hence the number of ranges is at most ``n_blocks``
(8 per numba thread of the calling process unless ``l0_search(n_blocks=...)`` is given).

When it is used
---------------
The caller's ``l0_search`` (not ``serial=True``) sends the search out when
:func:`sisso_lite.features.distributed.blocks_backend` reports a process or cluster backend
(``joblib.parallel_config(backend="dask" | "loky" | "multiprocessing")``, not inside a task)
and there are at least :data:`MIN_COMBINATIONS` combinations (environment variable
``SISSO_LITE_L0_MIN_COMBINATIONS``). ``SISSO_LITE_L0_RANGES`` sets the number of ranges
(default: 4 per joblib worker, at most ``n_blocks``). The inputs (``G`` is ``T m^2 x 8 B``)
are wrapped in one :class:`_Payload` that joblib's Dask backend scatters to the workers once
per search; a task returns ``n_models (k + 1) x 8 B``.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from sisso_lite.solvers.l0_kernels import _l0_block, _l0_heaps

__all__ = ["MIN_COMBINATIONS", "combination_ranges", "min_combinations",
           "requested_ranges", "search_in_ranges", "search_ranges_if_worth"]

#: below this many combinations the L0 search stays in process: 10^7 models are ~0.2 s of
#: one core (RMSE, d = 3: ~16 ns per model measured), against ~2 ms per Dask task, the
#: scatter of the Gram matrix and the workers' first call of the cached kernel
MIN_COMBINATIONS = 10_000_000


def _env_int(name: str, minimum: int) -> int | None:
    env = os.environ.get(name)
    if env is None:
        return None
    try:
        value = int(env)
    except ValueError:
        raise ValueError(f"{name}={env!r} is not an integer") from None
    if value < minimum:
        raise ValueError(f"{name}={env!r} must be >= {minimum}")
    return value


def min_combinations() -> int:
    """:data:`MIN_COMBINATIONS`, or ``SISSO_LITE_L0_MIN_COMBINATIONS`` when set."""
    value = _env_int("SISSO_LITE_L0_MIN_COMBINATIONS", 0)
    return MIN_COMBINATIONS if value is None else value


def requested_ranges(n_workers: int) -> int:
    """Requested number of ranges: ``SISSO_LITE_L0_RANGES``, else 4 per joblib worker."""
    value = _env_int("SISSO_LITE_L0_RANGES", 1)
    return 4 * max(int(n_workers), 1) if value is None else value


def combination_ranges(m: int, k: int, n_blocks: int, n_ranges: int) -> np.ndarray:
    """Ranges of whole serial blocks: rows ``(block_lo, block_hi, rank_lo, rank_hi)``.

    The serial search's block ``j`` holds the ranks ``[j per, min((j + 1) per, C(m, k)))``
    with ``per = ceil(C(m, k) / n_blocks)``. The non-empty blocks are grouped into
    ``min(n_ranges, n_nonempty)`` contiguous groups of about equal size; the rank ranges are
    contiguous, non-empty, start at 0 and end at ``C(m, k)``.
    """
    total = math.comb(int(m), int(k))
    n_blocks, n_ranges = int(n_blocks), int(n_ranges)
    if n_blocks < 1 or n_ranges < 1:
        raise ValueError("n_blocks and n_ranges must be >= 1")
    if total == 0:
        return np.zeros((0, 4), np.int64)
    per = -(-total // n_blocks)
    n_used = -(-total // per)  # blocks holding at least one combination
    r = min(n_ranges, n_used)
    blocks = (np.arange(r + 1, dtype=np.int64) * n_used) // r
    ranks = np.minimum(blocks * per, total)
    return np.column_stack([blocks[:-1], blocks[1:], ranks[:-1], ranks[1:]])


def _top(err: np.ndarray, idx: np.ndarray, n_keep: int) -> np.ndarray:
    """Positions of the best ``n_keep`` by ``(err, idx[:, 0], idx[:, 1], ...)``, as in
    :func:`sisso_lite.solvers.l0.l0_search`."""
    keys = [idx[:, q] for q in range(idx.shape[1] - 1, -1, -1)] + [err]
    return np.lexsort(keys)[:n_keep]


class _Payload:
    """The kernel inputs of one search (shipped to each worker once per search)."""

    def __init__(self, G, b, yy, weights, k, n_keep, n_blocks, use_maxae, Ft, yc, offsets,
                 tol) -> None:  # fmt: skip
        self.G, self.b, self.yy, self.weights = G, b, yy, weights
        self.k, self.n_keep, self.n_blocks = int(k), int(n_keep), int(n_blocks)
        self.use_maxae, self.tol = bool(use_maxae), float(tol)
        self.Ft, self.yc, self.offsets = Ft, yc, offsets

    def __sizeof__(self) -> int:  # dask's sizeof: large, so joblib scatters it once
        arrays = (self.G, self.b, self.yy, self.weights, self.Ft, self.yc, self.offsets)
        return sum(a.nbytes for a in arrays) + 1024


def _search_range(payload: _Payload, block_lo: int, block_hi: int,
                  n_threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Best ``n_keep`` ``(errors, indices)`` of the serial blocks ``[block_lo, block_hi)``.

    The blocks run with the serial kernel (:func:`.l0_kernels._l0_block`, GIL released) on
    ``n_threads`` threads (default: the Dask worker's threads, else numba's thread count).
    """
    from sisso_lite.features.distributed import _worker_threads

    p = payload
    m = p.b.shape[1]
    binom, heap_err, heap_idx, heap_n, per = _l0_heaps(m, p.k, p.n_keep, p.n_blocks)

    def run(blk: int) -> None:
        _l0_block(p.G, p.b, p.yy, p.weights, p.k, p.use_maxae, p.Ft, p.yc, p.offsets, p.tol,
                  binom, per, blk, heap_err, heap_idx, heap_n)  # fmt: skip

    blocks = range(int(block_lo), int(block_hi))
    threads = n_threads or _worker_threads() or numba.get_num_threads()
    threads = max(1, min(int(threads), len(blocks)))
    if threads == 1:
        for blk in blocks:
            run(blk)
    else:  # each block writes its own heap row
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(run, blocks))
    err = np.concatenate([heap_err[j, : heap_n[j]] for j in blocks])
    idx = np.concatenate([heap_idx[j, : heap_n[j]] for j in blocks]).reshape(-1, p.k)
    best = _top(err, idx, p.n_keep)
    return err[best], idx[best]


def search_in_ranges(G, b, yy, weights, k, n_keep, n_blocks, use_maxae, Ft, yc, offsets,
                     tol, *, n_ranges: int, ranges: np.ndarray | None = None,
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Run the search range by range through joblib (the active backend).

    Same arguments and result layout as :func:`.l0_kernels._l0_kernel`: ``errors``
    ``(R, n_keep)``, ``indices`` ``(R, n_keep, k)`` and ``sizes`` ``(R,)``, one row per range in
    range order (each range's best, sorted), so ``l0_search`` merges them as the block heaps.
    """
    from joblib import Parallel, delayed

    from sisso_lite.features.distributed import dask_client, run_on_dask

    m, k, n_keep = b.shape[1], int(k), int(n_keep)
    if ranges is None:
        ranges = combination_ranges(m, k, n_blocks, n_ranges)
    payload = _Payload(G, b, yy, weights, k, n_keep, n_blocks, use_maxae, Ft, yc, offsets,
                       tol)  # fmt: skip
    jobs = [delayed(_search_range)(payload, int(lo), int(hi)) for lo, hi in ranges[:, :2]]
    client = dask_client()  # on Dask: submitted directly, so a lost worker is rerun
    results = (Parallel()(jobs) if client is None else
               run_on_dask(client, jobs, f"searching {len(jobs)} ranges of L0 combinations"))
    r = len(results)
    err = np.full((r, n_keep), np.inf)
    idx = np.full((r, n_keep, k), -1, dtype=np.int64)
    nh = np.zeros(r, dtype=np.int64)
    for i, (e, s) in enumerate(results):
        nh[i] = len(e)
        err[i, : nh[i]] = e
        idx[i, : nh[i]] = s
    return err, idx, nh


def search_ranges_if_worth(G, b, yy, weights, k, n_keep, n_blocks, use_maxae, Ft, yc,
                           offsets, tol):  # fmt: skip
    """:func:`search_in_ranges` when a process / cluster backend is active and the search has
    at least :func:`min_combinations` combinations; ``None`` otherwise (search in process)."""
    if math.comb(b.shape[1], int(k)) < min_combinations():
        return None
    from sisso_lite.features.distributed import blocks_backend

    n_workers = blocks_backend()
    if n_workers is None:
        return None
    return search_in_ranges(G, b, yy, weights, k, n_keep, n_blocks, use_maxae, Ft, yc,
                            offsets, tol, n_ranges=requested_ranges(n_workers))  # fmt: skip
