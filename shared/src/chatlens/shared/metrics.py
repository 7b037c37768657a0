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
# How long messages wait in their queues: RabbitMQ reports the head message's timestamp only for
# classic queues (the RPC ones), never for the quorum queues that carry jobs and events, so the
# consumers measure it (deploy/monitoring: the alert on messages waiting too long).
BUS_WAIT_SECONDS = Histogram(
    "chatlens_bus_message_wait_seconds",
    "Time from a message's publication to its delivery to a consumer, by queue",
    ["queue"],
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, 4 * 3600, 24 * 3600),
)


def render() -> tuple[bytes, str]:
    """The current metrics in the text exposition format, with its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST
