"""``numba_threads``: temporarily limit the numba thread count (used by solvers and estimators)."""

from __future__ import annotations

from contextlib import contextmanager

import numba

__all__ = ["numba_threads"]


@contextmanager
def numba_threads(n_jobs: int | None):
    """Temporarily limit the numba thread count (``None``: leave as is, ``-1``: all)."""
    if n_jobs is None:
        yield
        return
    old = numba.get_num_threads()
    n = numba.config.NUMBA_NUM_THREADS if n_jobs < 0 else max(1, min(int(n_jobs),
                                                                     numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(n)
    try:
        yield
    finally:
        numba.set_num_threads(old)
