"""The index's business metrics beside the bus ones (chatlens.shared.metrics)."""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import Histogram

from chatlens.shared.schemas import Message, SearchRequested

# Keyword search skips the vectors, hybrid does both: their latencies differ by design, so an
# operator needs them apart (the search dashboard, the search alert's drill-down).
SEARCH_SECONDS = Histogram(
    "chatlens_index_search_seconds", "Time the index took to answer one search, by mode", ["mode"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def timed_search(search: Callable[[SearchRequested], Message]) -> Callable[[SearchRequested],
                                                                            Message]:
    """``search``, observed in SEARCH_SECONDS under the request's mode (failures included)."""

    def timed(request: SearchRequested) -> Message:
        started = time.perf_counter()
        try:
            return search(request)
        finally:
            SEARCH_SECONDS.labels(request.mode).observe(time.perf_counter() - started)

    return timed
