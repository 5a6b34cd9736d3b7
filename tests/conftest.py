"""Fixtures shared by several test modules."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def client():
    """A Dask ``Client`` on a ``LocalCluster`` of two single-thread worker processes (loopback
    only); one cluster per test module, so a module that kills workers leaves the next one a
    fresh cluster."""
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1") as cluster, \
            distributed.Client(cluster) as dask_client:  # fmt: skip
        yield dask_client
