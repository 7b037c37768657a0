"""The web app's typed client matches the gateway's OpenAPI document as the code builds it now:
regenerating ``src/api/schema.d.ts`` must change nothing (run ``npm run api:generate`` in
services/web after changing a route or a model, and commit the result)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chatlens.shared.testing import unavailable

WEB = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if not found or not (WEB / "node_modules/openapi-typescript").is_dir():
        unavailable("node and services/web/node_modules are needed (make setup runs npm ci)")
    return found


def test_the_generated_client_has_not_drifted_from_the_gateway(node, tmp_path):
    fresh = tmp_path / "schema.d.ts"
    result = subprocess.run(
        [node, "scripts/generate-api.mjs", str(fresh)],
        cwd=WEB,
        env={"CHATLENS_PYTHON": sys.executable, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    committed = (WEB / "src/api/schema.d.ts").read_text()
    assert fresh.read_text() == committed, (
        "src/api/schema.d.ts is out of date: run `npm run api:generate` in services/web"
    )


def test_the_document_names_the_routes_the_app_calls():
    sys.path.insert(0, str(WEB / "scripts"))
    try:
        from dump_openapi import document
    finally:
        sys.path.pop(0)
    paths = document()["paths"]
    for path in (
        "/api/v1/collections",
        "/api/v1/collections/{collection_id}/search",
        "/api/v1/collections/{collection_id}/uploads",
        "/api/v1/jobs/{job_id}/events",
        "/api/v1/collections/{collection_id}/ask",
        "/api/v1/collections/{collection_id}/versions/{version}/restore",
        "/api/v1/collections/{collection_id}/messages/{message_id}",
    ):
        assert path in paths, path
