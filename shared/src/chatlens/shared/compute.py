"""The Dask cluster a model service runs its work on.

With ``DASK_SCHEDULER_ADDRESS`` set, the service joins that scheduler (production: ``dask
scheduler`` plus N ``dask worker``s, one per GPU); without it, it starts an in-process
``LocalCluster`` (the embedded default for a laptop and CI). Workers are tagged with resources
(``embed``, ``llm``) so each kind of work lands on workers that can do it.
"""

from __future__ import annotations

import logging

from distributed import Client, LocalCluster

log = logging.getLogger(__name__)


def connect(scheduler_address: str | None, *, name: str, resources: dict[str, float],
            threads: int = 1) -> Client:
    """A Dask client: to the configured scheduler, or to a new in-process LocalCluster."""
    if scheduler_address:
        log.info("joining Dask scheduler", extra={"address": scheduler_address})
        return Client(scheduler_address, name=name)
    # processes=False keeps the worker in this process: no pickling of models or batches, and
    # nothing is orphaned if the service is killed.
    cluster = LocalCluster(
        n_workers=1, threads_per_worker=threads, processes=False, resources=resources,
        dashboard_address=None, name=name,
    )
    log.info("started an in-process Dask LocalCluster", extra={"resources": resources})
    return Client(cluster, name=name)
