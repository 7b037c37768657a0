"""Prometheus metric helpers shared by every service."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

BUS_CONSUMED = Counter(
    "chatlens_bus_consumed_total",
    "Messages handled by a consumer, by outcome",
    ["queue", "outcome"],
)
BUS_PUBLISHED = Counter("chatlens_bus_published_total", "Messages published", ["type"])
BUS_HANDLER_SECONDS = Histogram(
    "chatlens_bus_handler_seconds", "Time a handler took on one message", ["queue"]
)
RPC_SECONDS = Histogram("chatlens_rpc_seconds", "Round trip of an RPC call", ["type", "outcome"])


def render() -> tuple[bytes, str]:
    """The current metrics in the text exposition format, with its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST
