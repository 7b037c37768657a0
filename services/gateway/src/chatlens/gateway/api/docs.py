"""The OpenAPI document, built by spectree from the API's pydantic models.

Validation is ours (``chatlens.shared.web.json_body``, which also guards against NaN and deep
nesting), so the decorators only describe; the document is served at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from flask import Blueprint, current_app
from spectree import SecurityScheme, SpecTree
from spectree.models import SecuritySchemeData

spec = SpecTree(
    "flask",
    title="Chatlens API",
    version="v1",
    path="api/docs",
    security_schemes=[SecurityScheme(
        name="bearer", data=SecuritySchemeData(type="http", scheme="bearer", bearer_format="JWT"))],
    security={"bearer": []},
)

bp = Blueprint("docs", __name__)


@bp.get("/api/v1/openapi.json")
def openapi():
    return current_app.extensions["chatlens.openapi"]()
