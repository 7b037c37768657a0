"""Webhooks per collection (issue 14): signed HTTP callbacks for ``job.succeeded``,
``job.failed`` and ``version.created``, delivered at least once from an outbox table.

* :mod:`.signing`: the ``Chatlens-Signature`` header (HMAC-SHA256 over timestamp and body);
* ``chatlens.shared.egress``: which URLs may be called (public addresses only, unless allowed),
  and the HTTP client that connects only to addresses it checked;
* :mod:`.outbox`: delivery rows written in the transaction that made the event;
* :mod:`.dispatcher`: claims due rows with a lease, sends them, retries with backoff, dead after
  the limit, every attempt recorded.

The use cases behind the API are ``chatlens.gateway.application.webhooks``.
"""

EVENTS = ("job.succeeded", "job.failed", "version.created")
PING = "ping"
