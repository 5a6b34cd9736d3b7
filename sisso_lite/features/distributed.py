"""Last-rung SIS split into blocks of tier features, scored through joblib (e.g. on Dask).

The fused last-rung screen (:mod:`.fused`) enumerates the candidates ``i OP j`` of every
tier feature ``i``; the candidate index range is therefore split by ``i`` into blocks of about
equal work (:func:`.fused.chunk_bounds`). Each block is one joblib task: it computes its own
window of virtual rows from the stored operands (``storage.StoredValues``), runs the same
kernel (:func:`.fused.screen_last_rung_chunks`) and returns only its best ``keep``
candidates ``(score, code, a, b)`` and its count of valid candidates. No task holds the
whole space: a worker holds the stored operand rows, the node programs and one window.

The first block is screened in the calling process: its ``keep``-th best score is a lower
bound of the global one and is passed to the other blocks as the threshold below which a
candidate cannot enter the top (the serial screen passes the same bound from window to
window), so the blocks skip the exact score of most candidates.

The blocks are merged exactly as the serial screen merges its windows (concatenation in
block order, stable sort by decreasing score, cut at ``keep``), so the selected features and
scores equal the serial ones. (The only difference could come from candidates whose scores
are bit-for-bit equal and straddle the ``keep`` cut inside one block; ``keep`` is
``8 n_sis + 64``, far larger than what is selected.)

When it is used
---------------
:func:`blocks_backend` decides: an explicit ``joblib.parallel_config`` (or
``parallel_backend``) with a process or cluster backend (``"dask"``, ``"loky"``,
``"multiprocessing"``, ...; not ``"threading"`` / ``"sequential"``) sends the last rung of
every fast-path SIS (:meth:`FeatureSpace.screen` with a Pearson scorer) through joblib.
With ``backend="dask"`` inside ``with joblib.parallel_config(backend="dask"):`` (a
``dask.distributed.Client`` must exist) the blocks run on the cluster's workers; the large
shared arrays are sent to the cluster once per screen, as one task that the blocks depend on
(:func:`run_on_dask`). The environment variable
``SISSO_LITE_SIS_BLOCKS`` sets the number of blocks (default: 4 per joblib worker, and at
least one per window of virtual rows).

Lost workers
------------
On Dask the blocks are submitted by :func:`run_on_dask` (not through joblib's Dask backend):
the shared payload is one task of its own, which the scheduler recomputes if the worker
holding it dies, and a block whose worker dies is rerun on another worker, up to
``distributed.scheduler.allowed-failures`` times; past that the screen stops with
:class:`WorkerDiedError`.

References
----------
* R. Ouyang et al., Phys. Rev. Mater. 2, 083802 (2018) -- SISSO, SIS over the feature space.
* M. Rocklin, "Dask: parallel computation with blocked algorithms and task scheduling",
  Proc. SciPy 2015.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numba
import numpy as np

from .fused import chunk_bounds, screen_last_rung_chunks
from .generate import compute_nodes_into

if TYPE_CHECKING:
    from .screening import _LastRung
    from .storage import StoredValues

__all__ = ["MIN_PAIRS", "WorkerDiedError", "blocks_backend", "block_ranges", "dask_client",
           "raise_if_worker_died", "run_on_dask", "screen_blocks", "worth_blocking"]

#: below this many (tier feature, partner) pairs the last rung stays in process (a task's
#: overhead, ~2 ms on Dask, exceeds the work)
MIN_PAIRS = 200_000

#: backends that share the caller's memory: the serial in-process screen is used instead
_LOCAL_BACKENDS = ("ThreadingBackend", "SequentialBackend")


def blocks_backend() -> int | None:
    """Number of joblib workers when a process / cluster backend is explicitly active.

    Returns ``None`` (serial in-process screen) outside ``joblib.parallel_config``, with a
    thread / sequential backend, and inside a joblib or Dask task (an ensemble member that
    runs on a worker screens serially there: the members are the parallel work).
    """
    try:
        from joblib.parallel import _backend, default_parallel_config, get_active_backend
    except ImportError:  # pragma: no cover - joblib is a dependency
        return None
    config = getattr(_backend, "config", default_parallel_config)
    if config["backend"] is default_parallel_config["backend"]:
        return None  # the default backend: not asked for
    backend, n_jobs = get_active_backend()
    if type(backend).__name__ in _LOCAL_BACKENDS or getattr(backend, "nesting_level", 0):
        return None  # threads, or nested in a joblib task (e.g. an ensemble member)
    if _worker_threads() is not None:
        return None  # already on a Dask worker: no tasks submitted from tasks
    try:
        n_workers = backend.effective_n_jobs(n_jobs if isinstance(n_jobs, int) else -1)
    except Exception:  # noqa: BLE001 - e.g. a Dask backend without a running client
        n_workers = 1
    return max(int(n_workers), 1)


class WorkerDiedError(RuntimeError):
    """A Dask worker died while running a task, more often than Dask reruns a task."""


def raise_if_worker_died(exc: BaseException, what: str) -> None:
    """Raise :class:`WorkerDiedError` from ``exc`` if it is Dask's ``KilledWorker``."""
    if type(exc).__name__ != "KilledWorker":
        return
    allowed = getattr(exc, "allowed_failures", None)
    retries = "" if allowed is None else f" (here {allowed})"
    raise WorkerDiedError(
        f"a Dask worker died while {what} (KilledWorker: {exc}); the result is incomplete "
        f"and nothing was returned -- rerun; Dask reruns a task whose worker died up to "
        f"distributed.scheduler.allowed-failures times{retries}, so look for what kills the "
        f"workers (memory limit, OOM killer, preemption) in the worker logs") from exc


def dask_client():
    """The ``distributed.Client`` of an active joblib Dask backend, else ``None``.

    ``None`` also inside a Dask task (nested work goes through joblib there).
    """
    from joblib.parallel import get_active_backend

    backend, _ = get_active_backend()
    if type(backend).__name__ != "DaskDistributedBackend" or _worker_threads() is not None:
        return None
    return getattr(backend, "client", None)


def _identity(x):
    return x


def run_on_dask(client, jobs: list, what: str, progress=None) -> list:
    """Run joblib jobs ``(func, args, kwargs)`` as Dask tasks; the results in job order.

    Used instead of joblib's Dask backend, which (joblib 1.6) scatters large arguments --
    scattered data is lost with the worker holding it, and the tasks needing it are
    cancelled rather than rerun -- and never returns when a task fails on the Dask side
    (``KilledWorker``): the call waits forever. Here an argument shared by several jobs
    (same object) is submitted once as a task of its own, which the scheduler recomputes if
    its worker dies; a task whose worker dies is rerun elsewhere, up to
    ``distributed.scheduler.allowed-failures`` times, then :class:`WorkerDiedError`.
    ``progress`` (e.g. a tqdm bar) is updated once per finished task.
    """
    import warnings

    from distributed import as_completed

    uses: dict[int, int] = {}
    for _, args, kwargs in jobs:
        for arg in (*args, *kwargs.values()):
            uses[id(arg)] = uses.get(id(arg), 0) + 1
    shared: dict[int, object] = {}

    def task_arg(arg):
        if uses[id(arg)] < 2 or isinstance(arg, (bool, int, float, str, type(None))):
            return arg
        if id(arg) not in shared:  # the scheduler keeps it: "large graph" is expected
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Sending large graph", UserWarning)
                shared[id(arg)] = client.submit(_identity, arg, pure=False)
        return shared[id(arg)]

    futures = []
    try:
        for func, args, kwargs in jobs:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Sending large graph", UserWarning)
                futures.append(client.submit(func, *map(task_arg, args), pure=False,
                                             **{k: task_arg(v) for k, v in kwargs.items()}))
        if progress is not None:
            for _ in as_completed(futures):
                progress.update()
        return client.gather(futures)
    except Exception as exc:
        client.cancel(futures + list(shared.values()))
        raise_if_worker_died(exc, what)
        raise


def worth_blocking(last: _LastRung, store: StoredValues) -> bool:
    """Whether the last rung is large enough to be sent out in blocks (:data:`MIN_PAIRS`)."""
    n_tier = store.n_total - last.tier_start
    n_older = len(last.older[0]) // max(len(last.older[1]) - 1, 1)  # mean list length
    n_partners = n_older + (0 if store.n_virtual else n_tier)  # a virtual tier: no pairs
    return n_tier * n_partners >= MIN_PAIRS


def block_ranges(last: _LastRung, store: StoredValues, n_workers: int) -> np.ndarray:
    """Bounds ``[b_0, b_1, ...]`` of the tier-feature blocks of a last-rung screen.

    About equal work per block (:func:`.fused.chunk_bounds`), at least ``4 n_workers`` blocks
    (or ``SISSO_LITE_SIS_BLOCKS``), and no block wider than one window of virtual rows.
    """
    lo, hi = last.tier_start, store.n_total
    env = os.environ.get("SISSO_LITE_SIS_BLOCKS")
    if env is not None:
        try:
            n_blocks = int(env)
        except ValueError:
            raise ValueError(f"SISSO_LITE_SIS_BLOCKS={env!r} is not an integer") from None
        if n_blocks < 1:
            raise ValueError(f"SISSO_LITE_SIS_BLOCKS={env!r} must be >= 1")
    else:
        n_blocks = 4 * n_workers
    if store.n_virtual:
        n_blocks = max(n_blocks, -(-store.n_virtual // store.block_rows))
    space = last.space
    bounds = chunk_bounds(space._complexity, space.max_complexity, last.older[1], lo, hi,
                          n_blocks)  # fmt: skip
    if store.n_virtual:  # split blocks wider than a window
        cut = [int(bounds[0])]
        for b_lo, b_hi in zip(bounds[:-1], bounds[1:], strict=True):
            cut.extend(range(int(b_lo) + store.block_rows, int(b_hi), store.block_rows))
            cut.append(int(b_hi))
        bounds = np.asarray(cut, np.int64)
    return bounds


class _Payload:
    """Everything a block task reads (shipped to each worker once per screen)."""

    def __init__(self, last: _LastRung, store: StoredValues) -> None:
        space, inputs = last.space, last.inputs
        self.operands = np.ascontiguousarray(store.operands)
        self.start, self.n_virtual = store.start, store.n_virtual
        self.kernel_args = (
            last.opmask, space._op, space._a, space._b, space._complexity,
            space.max_complexity, inputs["right_first"], inputs["unit_id"], inputs["nonzero"],
            inputs["positive"], inputs["dimensionless"], last.allowed,
        )  # fmt: skip
        self.fortran, self.lower, self.upper = space._fortran, space._lower, space._upper
        self.lists = (*last.older, *last.tier)
        self.fast = tuple(last.fast)
        self.keep = last.keep

    def __sizeof__(self) -> int:  # dask's sizeof (memory accounting): the arrays it holds
        arrays = [self.operands, *self.kernel_args, *self.lists, *self.fast]
        return sum(a.nbytes for a in arrays if isinstance(a, np.ndarray)) + 1024


def _worker_threads() -> int | None:
    """Threads of the Dask worker running this task (``None`` outside a worker)."""
    try:
        from distributed import get_worker

        return int(get_worker().state.nthreads)
    except (ImportError, ValueError, AttributeError):
        return None


def _screen_block(payload: _Payload, lo: int, hi: int, n_threads: int | None,
                  threshold: float = -np.inf,
                  ) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Best ``keep`` candidates of tier features ``[lo, hi)`` scoring ``>= threshold``."""
    p = payload
    op, arg_a, arg_b = p.kernel_args[1], p.kernel_args[2], p.kernel_args[3]
    if p.n_virtual:  # this block's window: operands, then virtual rows lo..hi
        window = np.empty((p.start + hi - lo, p.operands.shape[1]))
        window[: p.start] = p.operands
        compute_nodes_into(op[lo:hi], arg_a[lo:hi], arg_b[lo:hi], window, p.fortran, window,
                           p.start)  # fmt: skip
        shift = lo - p.start
    else:
        window, shift = p.operands, 0
    threads = _worker_threads() if n_threads is None else n_threads
    previous = numba.get_num_threads()
    threads = min(threads or previous, numba.config.NUMBA_NUM_THREADS)
    n_chunks = 8 * threads if hi - lo > 1000 else 1
    bounds = chunk_bounds(p.kernel_args[4], p.kernel_args[5], p.lists[1], lo, hi, n_chunks)
    numba.set_num_threads(threads)  # a Dask worker's share of the cores, not all of them
    try:
        n_valid, n_top, score, code, a, b = screen_last_rung_chunks(
            bounds, *p.kernel_args, window, p.start, shift, p.fortran, p.lower, p.upper,
            *p.lists, *p.fast, p.keep, threshold,
        )  # fmt: skip
    finally:
        numba.set_num_threads(previous)
    filled = np.arange(score.shape[1])[None, :] < n_top[:, None]
    cols = [col[filled] for col in (score, code, a, b)]
    order = np.argsort(-cols[0], kind="stable")[: p.keep]
    return (int(n_valid.sum()), *(col[order] for col in cols))


def screen_blocks(last: _LastRung, store: StoredValues, n_workers: int) -> None:
    """Run the last rung of ``last`` block by block through joblib; fills ``last.top``.

    ``last`` is the serial :class:`.screening._LastRung` (fresh: nothing screened yet); its
    ``top`` and ``n_valid`` end as after the serial screen of all windows.
    """
    from joblib import Parallel, delayed

    bounds = block_ranges(last, store, n_workers)
    payload = _Payload(last, store)
    ranges = [(int(lo), int(hi)) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
              if hi > lo]  # fmt: skip
    if not ranges:
        return
    # pilot: the first block here; its keep-th best score bounds the global one from below,
    # so the other blocks skip what cannot enter the top (as the serial windows do)
    first = _screen_block(payload, *ranges[0], None)
    threshold = float(first[1][-1]) if len(first[1]) == last.keep else -np.inf
    jobs = [delayed(_screen_block)(payload, lo, hi, None, threshold) for lo, hi in ranges[1:]]
    client = dask_client()
    rest = (Parallel()(jobs) if client is None else
            run_on_dask(client, jobs, f"screening the last rung of SIS in {len(jobs)} blocks"))
    results = [first, *rest]
    merged = [np.concatenate([old, *(r[k + 1] for r in results)])
              for k, old in enumerate(last.top)]  # fmt: skip
    order = np.argsort(-merged[0], kind="stable")[: last.keep]
    last.top = tuple(col[order] for col in merged)
    last.n_valid += sum(r[0] for r in results)

