"""Prometheus metrics of the embedding worker (served by ``chatlens.shared.health``)."""

from __future__ import annotations

from prometheus_client import Counter

INGESTS = Counter(
    "chatlens_embedding_ingests_total",
    "Ingest jobs handled, by outcome (or failure code)",
    ["outcome"],
)
MESSAGES = Counter(
    "chatlens_embedding_messages_total", "Chat messages published, parsed or embedded", ["stage"]
)
QUERY_CACHE = Counter(
    "chatlens_embedding_query_cache_total",
    "Query texts answered from the cache or embedded",
    ["result"],
)
QUERY_PATH = Counter(
    "chatlens_embedding_query_batches_total",
    "Query batches embedded, by where: in-process (the fast path) or on Dask",
    ["path"],
)
