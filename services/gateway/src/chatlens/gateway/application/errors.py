"""What a use case refuses with: domain errors, each with a stable public code.

The HTTP status of each kind lives in one table (``chatlens.gateway.http_errors``); the refusals
of the services behind the bus are translated here, by their ``RpcFailed`` code, into the same
kinds (:data:`RPC_CODES`), so a view never sees a bus error.
"""

from __future__ import annotations


class AppError(Exception):
    """Base of every refusal of the application layer: ``code`` is the client's to rely on."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        retry_after: int | None = None,
        rpc_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.retry_after = code, message, retry_after
        self.rpc_code = rpc_code  # the service's own code, when this came over the bus


class NotFound(AppError):
    """No such object in the caller's org (another org's objects are not found either)."""


class Invalid(AppError):
    """The request is well formed but cannot be done as asked."""


class BadRequest(AppError):
    """The request cannot be served as sent: a cursor that does not fit it, a prompt too long."""


class Forbidden(AppError):
    """The caller may see the object but not do this to it (their role lacks a permission)."""


class Conflict(AppError):
    """The request clashes with the object's state (a tag that exists, a model in use)."""


class TooLarge(AppError):
    """The work asked for is over a limit; the message says how to narrow it."""


class Unavailable(AppError):
    """A service behind the bus did not answer in time: retryable."""


class UpstreamFailed(AppError):
    """A service behind the bus failed in a way the client cannot fix."""


# Each RpcFailed code the services answer with (``Message.errors`` and ``schemas.BUS_ERRORS``)
# -> the kind and the public code the client sees.
RPC_CODES: dict[str, tuple[type[AppError], str]] = {
    # the index
    "not_found": (NotFound, "collection_not_found"),
    "version_not_found": (NotFound, "version_not_found"),
    "message_not_found": (NotFound, "message_not_found"),
    "tag_not_found": (NotFound, "tag_not_found"),
    "chat_not_found": (NotFound, "chat_not_found"),
    "sender_not_found": (NotFound, "sender_not_found"),
    "person_not_found": (NotFound, "person_not_found"),
    "upload_not_found": (NotFound, "upload_not_found"),
    "invalid_vector": (Invalid, "invalid_query"),
    "empty_query": (Invalid, "empty_query"),
    "tag_exists": (Conflict, "tag_exists"),
    "too_many_tags": (Conflict, "too_many_tags"),
    "invalid_tag": (Invalid, "invalid_tag"),
    "invalid_timezone": (Invalid, "invalid_timezone"),
    "invalid_language": (Invalid, "invalid_language"),
    # The replica that answered does not own the collection: INDEX_REPLICAS differs between the
    # gateway and the index, a deployment fault, not the client's.
    "wrong_replica": (Unavailable, "search_unavailable"),
    # the inference service
    "unknown_model": (NotFound, "model_not_found"),
    "prompt_too_long": (BadRequest, "context_length_exceeded"),
    "summary_too_long": (TooLarge, "window_too_large"),
    "wrong_model_kind": (Invalid, "wrong_model_kind"),
    "model_in_use": (Conflict, "model_in_use"),
    "invalid_registry": (Invalid, "invalid_registry"),
    "model_load_failed": (Invalid, "model_load_failed"),
    # an org endpoint (OpenAI-compatible provider): the provider failed, a 502 saying how
    "provider_unreachable": (UpstreamFailed, "provider_unreachable"),
    "provider_auth_failed": (UpstreamFailed, "provider_auth_failed"),
    "provider_model_not_found": (UpstreamFailed, "provider_model_not_found"),
    "provider_bad_response": (UpstreamFailed, "provider_bad_response"),
    "provider_rate_limited": (UpstreamFailed, "provider_rate_limited"),
    "provider_failed": (UpstreamFailed, "provider_failed"),
    # the endpoint names a secret the org does not have (the org's setting, not the provider)
    "provider_secret_not_found": (Invalid, "provider_secret_not_found"),
    # the endpoint's host now resolves to a private address (the URL passed when it was saved)
    "endpoint_not_allowed": (Invalid, "endpoint_not_allowed"),
    # the bus itself
    "invalid_message": (Invalid, "invalid_query"),
    "unsupported": (UpstreamFailed, "unsupported"),
    "internal": (UpstreamFailed, "internal"),
    # failed for a while (a Dask cluster too slow or lost, even mid-stream): retryable
    "unavailable": (Unavailable, "unavailable"),
}
# Seconds a client is told to wait before trying again a request that a service did not answer
# or could not do for a while.
RETRY_AFTER_S = 5


def from_rpc(code: str, message: str, service: str) -> AppError:
    """The application error for a service's ``RpcFailed(code)``."""
    kind, public = RPC_CODES.get(code, (UpstreamFailed, f"{service}_failed"))
    if kind is UpstreamFailed and public in ("unsupported", "internal"):
        public = f"{service}_failed"
    if code == "unavailable":
        return Unavailable(
            f"{service}_unavailable",
            f"the {service} service could not do it now ({message}); try again",
            retry_after=RETRY_AFTER_S,
            rpc_code=code,
        )
    if code == "invalid_message" and service == "inference":
        public = "validation_error"
    return kind(public, message, rpc_code=code)
