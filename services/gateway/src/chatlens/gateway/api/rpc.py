"""Calling the back-end services over RPC, and how their refusals reach the client."""

from __future__ import annotations

from flask import current_app

from chatlens.shared import schemas
from chatlens.shared.bus import PublishFailed, RpcError, RpcTimeout
from chatlens.shared.web import ApiError, server_timing

# The index's and the embedding worker's refusal codes -> (HTTP status, public code).
RPC_ERRORS = {
    "not_found": (404, "collection_not_found"),
    "version_not_found": (404, "version_not_found"),
    "invalid_vector": (422, "invalid_query"),
    "empty_query": (422, "empty_query"),
    "invalid_message": (422, "invalid_query"),
    "tag_not_found": (404, "tag_not_found"),
    "tag_exists": (409, "tag_exists"),
    "too_many_tags": (409, "too_many_tags"),
    "invalid_tag": (422, "invalid_tag"),
    # The index replica that answered does not own the collection: INDEX_REPLICAS differs
    # between the gateway and the index, a deployment fault, not the client's.
    "wrong_replica": (503, "search_unavailable"),
}


def call(request: schemas.Message, timeout: float | None = None, *,
         errors: dict[str, tuple[int, str]] = RPC_ERRORS,
         service: str = "search") -> schemas.Message:
    """Send ``request`` and wait for its reply; a 503 when nobody answers in time, and the
    server's refusals mapped to statuses through ``errors``."""
    bus = current_app.extensions["chatlens.bus"]
    timeout = timeout or current_app.config["CHATLENS_SETTINGS"].search_timeout_s
    try:
        with server_timing(request.type):
            return bus.rpc().call(request, timeout=timeout)
    except (RpcTimeout, PublishFailed) as exc:
        raise ApiError(503, f"{service}_unavailable",
                       f"the {service} service did not answer: {exc}") from None
    except RpcError as exc:
        status, code = errors.get(exc.code, (502, f"{service}_failed"))
        raise ApiError(status, code, str(exc)) from None
