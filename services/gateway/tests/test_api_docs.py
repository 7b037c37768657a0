"""Swagger UI at /api/docs, served from the files flask-swagger-ui installs: no CDN, no network."""

import re

import pytest
from openapi_spec_validator import validate


@pytest.fixture
def database_url(tmp_path):  # the pages touch no database
    return f"sqlite:///{tmp_path / 'gateway.db'}"


def test_swagger_ui_is_served_from_the_package_and_reads_our_document(client):
    assert client.get("/api/docs").status_code in (301, 308)  # to /api/docs/
    page = client.get("/api/docs/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '"url": "/api/v1/openapi.json"' in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(source.startswith("/api/docs/") for source in sources), sources
    bundle = client.get("/api/docs/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.get_data()) > 100_000
    assert client.get("/api/docs/swagger-ui.css").status_code == 200


def test_the_document_names_no_docs_page_and_spectree_serves_no_cdn_page(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.1")
    validate(document)  # a valid OpenAPI 3.1 document: the web app's client is generated from it
    assert not [path for path in document["paths"] if path.startswith("/api/docs")]
    assert "/metrics" not in document["paths"]  # nginx does not pass it on
    for path in ("/healthz", "/readyz", "/api/v1/openapi.json"):
        assert document["paths"][path]["get"]["security"] == []
    search = document["paths"]["/api/v1/collections/{collection_id}/search"]["post"]
    assert {"400", "401", "413", "415", "422"} <= set(search["responses"])
    assert "401" not in document["paths"]["/healthz"]["get"]["responses"]
    assert client.get("/api/docs/swagger/").status_code == 404
    assert client.get("/api/docs/redoc/").status_code == 404
