"""Print the gateway's OpenAPI document as JSON, built from ``create_app`` itself.

The document is what spectree derives from the registered routes and their pydantic models, so
no server, broker or auth service is needed: the app is built with throw-away settings and a bus
that never connects (it is only asked to declare its topology at start). Used by
``npm run api:generate`` and by the drift test in ``services/web/tests``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from chatlens.gateway.app import create_app
from chatlens.gateway.config import GatewaySettings


class OfflineBus:
    """Stands in for the bus while the document is built: no message is ever sent."""

    def declare(self) -> None:
        """Nothing to declare: the app never serves a request here."""

    def close(self) -> None:
        """Nothing to close."""


def document() -> dict:
    """The OpenAPI document as the running gateway serves it at ``/api/v1/openapi.json``."""
    with tempfile.TemporaryDirectory() as folder:
        settings = GatewaySettings(
            data_dir=Path(folder),
            database_url=f"sqlite:///{folder}/g.db",
            background=False,
            jwks_url="http://127.0.0.1:9/jwks.json",
        )
        app = create_app(settings, bus=OfflineBus())
        try:
            return app.test_client().get("/api/v1/openapi.json").get_json()
        finally:
            app.extensions["chatlens.engine"].dispose()


if __name__ == "__main__":
    json.dump(document(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
