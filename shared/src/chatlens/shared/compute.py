"""The Dask cluster a model service runs its work on.

With ``DASK_SCHEDULER_ADDRESS`` set, the service joins that scheduler (production: ``dask
scheduler`` plus N ``dask worker``s, one per GPU); without it, it starts an in-process
``LocalCluster`` (the embedded default for a laptop and CI). Workers are tagged with resources
(``embed``, ``llm``) so each kind of work lands on workers that can do it.

Dask's statistical profiler is off (:data:`NO_PROFILER`): it calls ``sys._current_frames()``
every 10 ms, which on Python 3.11 can deadlock the whole process when a garbage collection
starts inside it (CPython gh-106883, fixed in 3.12 only): the collector runs finalizers that
need the interpreter's thread lock the call already holds, while holding the GIL. In the
30-minute load soak the embedding worker froze 8 minutes after it started (its Dask "IO loop" in
``trigger_profile`` -> ``gc_collect_main``, every other thread waiting for the GIL, its queues
without consumers, every search 503).
"""

from __future__ import annotations

import logging
import os
import threading

import dask
from distributed import Client, LocalCluster

log = logging.getLogger(__name__)
# The dask config that turns the worker profiler off (the `dask worker` processes of the
# distributed layout get it as DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False: cli.stack).
NO_PROFILER = {"distributed.worker.profile.enabled": False}


def connect(
    scheduler_address: str | None, *, name: str, resources: dict[str, float], threads: int = 1
) -> Client:
    """A Dask client: to the configured scheduler, or to a new in-process LocalCluster."""
    if scheduler_address:
        log.info("joining Dask scheduler", extra={"address": scheduler_address})
        return Client(scheduler_address, name=name)
    # processes=False keeps the worker in this process: no pickling of models or batches, and
    # nothing is orphaned if the service is killed.
    with dask.config.set(NO_PROFILER):  # read as the worker starts
        cluster = LocalCluster(
            n_workers=1,
            threads_per_worker=threads,
            processes=False,
            resources=resources,
            dashboard_address=None,
            name=name,
        )
    log.info("started an in-process Dask LocalCluster", extra={"resources": resources})
    return Client(cluster, name=name)


def lower_thread_priority(niceness: int) -> None:
    """Let the rest of the machine go first: add ``niceness`` to the calling thread's nice value
    (0 leaves it as it is).

    For work that keeps the CPUs busy for seconds and can wait (the LLM's decode loop) while a
    search wants a few milliseconds of the same cores. On Linux a nice value belongs to a thread
    and a new thread starts with its creator's, so a loop that calls this before its first torch
    operation takes the OpenMP workers that operation starts down with it, and nothing else in
    the process. Raising a nice value needs no privilege; failing to is logged, not fatal."""
    if niceness <= 0:
        return
    thread = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + niceness)
    except OSError as exc:
        log.warning("could not lower the thread's priority", extra={"error": str(exc)})
