"""The OpenAPI document, built by spectree from the API's pydantic models, and Swagger UI.

Validation is ours (``chatlens.shared.web.json_body``, which also guards against NaN and deep
nesting), so the decorators only describe; the document is served at ``/api/v1/openapi.json``.
The auth service's routes, relayed by one proxy view, are added from ``auth_openapi``.
Swagger UI is served at ``/api/docs/`` from the files ``flask-swagger-ui`` installs (no CDN);
spectree's own pages are off because they load their scripts from CDNs.
"""

from __future__ import annotations

from dataclasses import is_dataclass
from http import HTTPStatus
from typing import Any

from flask import Blueprint, current_app
from flask_swagger_ui import get_swaggerui_blueprint
from pydantic import BaseModel
from spectree import SecurityScheme, SpecTree
from spectree.model_adapter.pydantic_adapter import PydanticModelAdapter
from spectree.models import SecureType, SecuritySchemeData

from chatlens.gateway.api import auth_openapi, examples, schema_names
from chatlens.gateway.api.http_models import Error

DOCUMENT_URL = "/api/v1/openapi.json"
UI_URL = "/api/docs"
# Routes anyone may call: what they answer.
UNAUTHENTICATED = {
    "/healthz": ("The process is alive", {"200": "alive"}),
    "/readyz": ("The gateway's database answers", {"200": "ready", "503": "starting"}),
    DOCUMENT_URL: ("This OpenAPI document", {"200": "the document"}),
}


_PLAIN = (str, int, float, bool, type(None))


class _Adapter(PydanticModelAdapter):
    """spectree's pydantic adapter with a quicker look for models inside a view's answer.

    After every view spectree walks what it returned, to serialise any pydantic model found in
    it; its walk calls ``is_dataclass`` on every value, recursively: 138 ms for the 31,345
    points of a weekly activity series over a million messages, most of the gateway's time for
    that answer. This one skips plain JSON values by their type first, with one loop and no
    recursion; it finds the same models."""

    def is_partial_model_instance(self, value: Any) -> bool:
        pending = [value]
        while pending:
            item = pending.pop()
            kind = type(item)
            if kind in _PLAIN:
                continue
            if kind is dict:
                pending.extend(item.keys())
                pending.extend(item.values())
            elif kind is list or kind is tuple:
                pending.extend(item)
            elif isinstance(item, BaseModel) or is_dataclass(item):
                return True
            elif isinstance(item, dict):
                pending.extend(item.keys())
                pending.extend(item.values())
            elif isinstance(item, (list, tuple)):
                pending.extend(item)
        return False


class _Spec(SpecTree):
    """spectree's document, with the auth service's operations in place of the proxy's
    wildcard."""

    def _generate_spec(self) -> dict[str, Any]:
        document = super()._generate_spec()
        # The UI's own pages and files are not part of the API, and nginx does not pass
        # /metrics on (Prometheus scrapes the gateway directly).
        for path in [
            path
            for path in document["paths"]
            if path.startswith(UI_URL + "/") or path == "/metrics"
        ]:
            del document["paths"][path]
        for path, (summary, statuses) in UNAUTHENTICATED.items():
            document["paths"][path]["get"].update(
                summary=summary,
                security=[],
                tags=["service"],
                responses={status: {"description": text} for status, text in statuses.items()},
            )
        _declare_common_errors(document, self.naming_strategy(Error))
        return examples.add_to(auth_openapi.add_to(schema_names.readable(document)))


def _declare_common_errors(document: dict[str, Any], error: str) -> None:
    """The refusals every operation can meet, whatever its view declares: 401 without a valid
    token, and for a JSON body 400 (not JSON), 413 (too large), 415 (not application/json) and
    422 (invalid), all in the one error shape (``chatlens.shared.web``)."""
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{error}"}}}
    for operations in document["paths"].values():
        for operation in operations.values():
            statuses = [] if operation.get("security") == [] else [401]
            body = operation.get("requestBody", {}).get("content", {})
            if "application/json" in body:
                statuses += [400, 413, 415, 422]
            for status in statuses:
                operation["responses"].setdefault(
                    str(status), {"description": HTTPStatus(status).phrase, "content": content}
                )


spec = _Spec(
    "flask",
    title="Chatlens API",
    version="v1",
    path=UI_URL.strip("/"),
    page_templates={},
    # Refused input is answered in the one error shape (chatlens.shared.web), not spectree's.
    validation_error_model=Error,
    # spectree types its own pydantic adapter as the protocol by a cast; ours is that class.
    model_adapter=_Adapter(),  # type: ignore[arg-type]
    security_schemes=[
        SecurityScheme(
            name="bearer",
            data=SecuritySchemeData(
                type=SecureType.HTTP,
                scheme="bearer",
                bearer_format="JWT",
                description="`Authorization: Bearer <access_token>` from /api/v1/auth/login, or an "
                "API key from /api/v1/auth/api-keys.",
            ),
        )
    ],
    security={"bearer": []},
)

bp = Blueprint("docs", __name__)
bp.register_blueprint(
    get_swaggerui_blueprint(
        UI_URL, DOCUMENT_URL, {"app_name": "Chatlens API"}, blueprint_name="swagger_ui"
    )
)


@bp.get(DOCUMENT_URL)
def openapi():
    return current_app.extensions["chatlens.openapi"]()
