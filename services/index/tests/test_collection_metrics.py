"""Per-collection metrics: live messages (tombstones subtracted), bytes on disk (Git history
included) and segment load seconds, read from the collections under a watched index folder."""

from __future__ import annotations

import os

import numpy as np
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from chatlens.index.metrics import CollectionMetrics
from chatlens.index.storage.collection import Collection, NewSegment
from chatlens.index.storage.segment import SegmentCache

from .conftest import DIM, make_message, random_unit_vectors


def _samples(collector: CollectionMetrics) -> dict[tuple[str, str, str], float]:
    registry = CollectorRegistry()
    registry.register(collector)
    text = generate_latest(registry).decode()
    return {
        (sample.name, sample.labels["org"], sample.labels["collection"]): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _disk_bytes(path) -> int:
    return sum(
        os.lstat(os.path.join(folder, name)).st_size
        for folder, _, files in os.walk(path)
        for name in files
    )


def test_messages_size_and_load_time_per_collection(layout):
    metrics = CollectionMetrics()
    metrics.watch(layout.root)
    path = layout.collection("org-a", "team")
    collection = Collection.create(path, dim=DIM)
    Collection.create(layout.collection("org-b", "empty"), dim=DIM)
    messages = [make_message(f"m{i}", i) for i in range(3)]
    vectors = random_unit_vectors(np.random.default_rng(1), 3, DIM)
    collection.add_version(
        "job-1",
        NewSegment(messages, [m.message_id for m in messages], vectors),
        {"messages": 3},
        "an import",
    )

    samples = _samples(metrics)
    assert samples[("chatlens_index_collection_messages", "org-a", "team")] == 3
    assert samples[("chatlens_index_collection_messages", "org-b", "empty")] == 0
    size = samples[("chatlens_index_collection_bytes", "org-a", "team")]
    assert size == _disk_bytes(path) > 0

    cache = SegmentCache(on_load=metrics.segment_loaded)
    (entry,) = collection.manifest().segments
    cache.get(collection.segment_path(entry.id))
    cache.get(collection.segment_path(entry.id))  # cached: no second load
    samples = _samples(metrics)
    loaded = samples[("chatlens_index_collection_load_seconds_total", "org-a", "team")]
    assert loaded > 0
    assert ("chatlens_index_collection_load_seconds_total", "org-b", "empty") not in samples

    collection.delete_messages("del-1", {"m0"}, {"removed": 1}, "a deletion")
    samples = _samples(metrics)
    assert samples[("chatlens_index_collection_messages", "org-a", "team")] == 2
    assert samples[("chatlens_index_collection_bytes", "org-a", "team")] == _disk_bytes(path) > size
    assert samples[("chatlens_index_collection_load_seconds_total", "org-a", "team")] == loaded
