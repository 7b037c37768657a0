"""RPC for the views not yet moved onto the application layer: the same port
(``application.ports.Rpc``), with an optional table of a caller's own extra codes."""

from __future__ import annotations

from chatlens.gateway.api import deps
from chatlens.gateway.application.errors import AppError
from chatlens.gateway.application.ports import R
from chatlens.shared import schemas
from chatlens.shared.web import ApiError

# A view's own RpcFailed codes -> (status, public code), over ``application.errors.RPC_CODES``.
RPC_ERRORS: dict[str, tuple[int, str]] = {}


def call(request: schemas.Message, reply: type[R], timeout: float | None = None, *,
         errors: dict[str, tuple[int, str]] = RPC_ERRORS, service: str = "search") -> R:
    """Send ``request`` and wait for its ``reply``; refusals as application errors, unless
    ``errors`` names the service's code."""
    try:
        return deps.backends().rpc.call(request, reply, timeout, service=service)
    except AppError as exc:
        if exc.rpc_code in errors:
            status, code = errors[exc.rpc_code]
            raise ApiError(status, code, exc.message) from None
        raise
