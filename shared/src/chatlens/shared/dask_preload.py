"""What every Dask worker process runs at its start: ``dask worker --preload
chatlens.shared.dask_preload`` (the local stack, both compose files, the chart and the image do).

It makes the worker export its spans (the ``embed_texts`` tasks, the generations of its engines,
the index's topics tasks: :mod:`chatlens.shared.tracing`) to ``OTEL_EXPORTER_OTLP_ENDPOINT`` when
the worker's environment sets it, as service ``dask-worker``; without one nothing is set up. A
preload rather than a plugin that the services register: it reads the worker's own environment (the
collector's headers and resource attributes with it), and it holds on a worker that joins after a
scheduler restart, which forgets registered plugins. An in-process ``LocalCluster`` needs none: its
tasks run in the service's process, which traces already.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from opentelemetry import trace

from chatlens.shared.tracing import init_tracing

if TYPE_CHECKING:
    from distributed import Worker

log = logging.getLogger(__name__)

SERVICE = "dask-worker"


def dask_setup(worker: Worker) -> None:
    if init_tracing(SERVICE, os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")):
        log.info("exporting traces", extra={"worker": worker.address})


def dask_teardown(worker: Worker) -> None:
    # Spans still in the batch processor's queue go out before the process exits.
    flush = getattr(trace.get_tracer_provider(), "force_flush", None)
    if flush is not None:
        flush()
