"""The index's business metrics beside the bus ones (chatlens.shared.metrics)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from prometheus_client import REGISTRY, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from chatlens.index.storage.manifest import FILENAME as MANIFEST
from chatlens.index.storage.manifest import Manifest
from chatlens.shared.schemas import Message, SearchRequested

# Keyword search skips the vectors, hybrid does both: their latencies differ by design, so an
# operator needs them apart (the search dashboard, the search alert's drill-down).
SEARCH_SECONDS = Histogram(
    "chatlens_index_search_seconds",
    "Time the index took to answer one search, by mode",
    ["mode"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def timed_search(
    search: Callable[[SearchRequested], Message],
) -> Callable[[SearchRequested], Message]:
    """``search``, observed in SEARCH_SECONDS under the request's mode (failures included)."""

    def timed(request: SearchRequested) -> Message:
        started = time.perf_counter()
        try:
            return search(request)
        finally:
            SEARCH_SECONDS.labels(request.mode).observe(time.perf_counter() - started)

    return timed


class CollectionMetrics(Collector):
    """Per collection (labels ``org``, ``collection``): live messages, bytes on disk (the Git
    repository included) and seconds spent loading its segments into memory.

    Read at scrape time from each collection's manifest; the size is walked again only when the
    manifest changed (a new version), so a scrape costs a stat and a small JSON read each.
    """

    def __init__(self) -> None:
        self._roots: set[Path] = set()
        self._sizes: dict[Path, tuple[int, int]] = {}  # path -> (manifest mtime_ns, bytes)
        self._load_seconds: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def watch(self, index_dir: Path) -> None:
        """Report the collections under this index folder (the composition root calls it)."""
        with self._lock:
            self._roots.add(Path(index_dir))

    def segment_loaded(self, segment_path: Path, seconds: float) -> None:
        """``SegmentCache``'s hook: ``<collection>/segments/<id>`` took ``seconds`` to load."""
        collection = segment_path.parent.parent
        key = (collection.parent.name, collection.name)
        with self._lock:
            self._load_seconds[key] = self._load_seconds.get(key, 0.0) + seconds

    def collect(self) -> Iterator[Metric]:
        labels = ["org", "collection"]
        messages = GaugeMetricFamily(
            "chatlens_index_collection_messages",
            "Live messages in the collection's newest version",
            labels=labels,
        )
        size = GaugeMetricFamily(
            "chatlens_index_collection_bytes",
            "Bytes the collection takes on disk, its Git history included",
            labels=labels,
        )
        load = CounterMetricFamily(
            "chatlens_index_collection_load_seconds",
            "Seconds spent loading the collection's segments into memory",
            labels=labels,
        )
        with self._lock:
            roots, loads = sorted(self._roots), dict(self._load_seconds)
        for root in roots:
            for path in _collections(root):
                key = [path.parent.name, path.name]
                try:
                    stamp = (path / MANIFEST).stat().st_mtime_ns
                    manifest = Manifest.parse((path / MANIFEST).read_bytes())
                except (OSError, ValueError):
                    continue  # being created, or purged right now: the next scrape has it
                live = sum(entry.messages for entry in manifest.segments) - len(manifest.tombstones)
                messages.add_metric(key, max(live, 0))
                size.add_metric(key, self._size(path, stamp))
        for (org, collection), seconds in sorted(loads.items()):
            load.add_metric([org, collection], seconds)
        yield from (messages, size, load)

    def _size(self, path: Path, stamp: int) -> int:
        cached = self._sizes.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
        total = 0
        for folder, _, files in os.walk(path):
            for name in files:
                try:
                    total += os.lstat(os.path.join(folder, name)).st_size
                except OSError:
                    pass
        self._sizes[path] = (stamp, total)
        return total


def _collections(root: Path) -> list[Path]:
    folder = root / "collections"
    if not folder.is_dir():
        return []
    return sorted(
        collection
        for org in folder.iterdir()
        if org.is_dir() and not org.name.startswith(".")
        for collection in org.iterdir()
        if collection.is_dir() and not collection.name.startswith(".")
    )


# One per process, on the default registry that /metrics serves.
COLLECTIONS = CollectionMetrics()
REGISTRY.register(COLLECTIONS)
