"""Tenant isolation: every path of the gateway's OpenAPI document, called by one org with another
org's ids, answers 404 (or 401/403 where no object is involved) and never shows the other org's
canary data. New endpoints are covered as soon as they are in the document."""

import io
import re
import uuid

import pytest

from chatlens.gateway.db import Collection

from .conftest import ROLE_PERMS
from .test_api import create_collection, upload

CANARY = f"CANARY-{uuid.uuid4().hex}"
# A body that passes validation for the endpoints that take one, so that the request reaches
# the org check rather than stopping at a 422 (a 422 proves nothing about isolation).
BODIES = {
    ("post", "/api/v1/collections"): {"name": "mine"},
    ("post", "/api/v1/collections/{collection_id}/search"): {"query": "canary"},
    ("post", "/api/v1/collections/{collection_id}/ask"): {"question": "what is the canary?"},
    ("post", "/api/v1/collections/{collection_id}/webhooks"): {
        "url": "https://hooks.example.com/chatlens",
        "events": ["job.succeeded"],
    },
    ("post", "/api/v1/collections/{collection_id}/people"): {
        "action": "merge",
        "person": "Ana",
        "senders": ["ana", "Ana S."],
    },
}
OBJECT_PARAMS = {"collection_id", "job_id", "answer_id", "version"}


@pytest.fixture
def settings(settings):
    # No LLM answers here: an endpoint that waits for one gives up after a second, not minutes.
    return settings.model_copy(update={"generation_timeout_s": 1.0, "search_timeout_s": 1.0})


@pytest.fixture
def victim(app, client, auth):
    """Org "victim": a collection named after the canary, with an upload holding it, indexed."""
    headers = auth(org="victim", user="victim-user")
    collection_id = create_collection(client, headers, name=CANARY)
    response = upload(
        client,
        headers,
        collection_id,
        [("chat.txt", f"12/03/2024, 09:15 - Marta: {CANARY}\n".encode())],
    )
    assert response.status_code == 202, response.json
    with app.extensions["chatlens.sessions"]() as session:
        session.get(Collection, collection_id).version = 1  # a search would reach the index
        session.commit()
    return {
        "collection_id": collection_id,
        "job_id": response.json["jobs"][0]["id"],
        "answer_id": uuid.uuid4().hex,
        "version": "1",
        "headers": headers,
    }


def _credentials(kind, auth, fake_auth):
    if kind == "token":
        return auth(org="attacker", user="attacker-user", role="owner")
    fake_auth.api_keys["clk_attacker_key"] = {
        "key_id": "k",
        "user_id": "attacker-user",
        "org_id": "attacker",
        "scopes": ROLE_PERMS["owner"],
        "expires_at": "2099-01-01T00:00:00",
    }
    return {"Authorization": "Bearer clk_attacker_key"}


def _query(operation) -> dict:
    """Values for the operation's required query parameters."""
    return {
        p["name"]: "1"
        for p in operation.get("parameters", [])
        if p.get("in") == "query" and p.get("required")
    }


@pytest.mark.parametrize("kind", ["token", "api_key"])
def test_no_path_shows_another_orgs_data(client, auth, fake_auth, victim, kind):
    attacker = _credentials(kind, auth, fake_auth)
    create_collection(client, auth(org="attacker", user="attacker-user"), name="attacker's")
    document = client.get("/api/v1/openapi.json").json
    tried = 0
    for template, operations in document["paths"].items():
        names = set(re.findall(r"{(\w+)}", template))
        for method, operation in operations.items():
            values = {
                **{n: victim[n] for n in names & OBJECT_PARAMS},
                **{n: "sessions" for n in names - OBJECT_PARAMS},
            }
            path = template.format(**values)
            kwargs = {"headers": attacker, "query_string": _query(operation)}
            if template.endswith("/uploads"):
                kwargs.update(
                    data={"files": [(io.BytesIO(b"x"), "a.txt")]},
                    content_type="multipart/form-data",
                )
            elif method in ("post", "put", "patch"):
                kwargs["json"] = BODIES.get((method, template), {})
            response = getattr(client, method)(path, **kwargs)
            tried += 1
            body = response.get_data(as_text=True)
            where = f"{method.upper()} {path} -> {response.status_code} {body[:200]}"
            assert CANARY not in body, where
            assert response.status_code < 500 or response.status_code == 503, where
            if names & OBJECT_PARAMS:
                assert response.status_code == 404, where
            elif response.status_code >= 400:
                assert response.status_code in (400, 401, 403, 404, 405, 415, 422, 503), where
    assert tried >= 20
    # The victim's collection is untouched (the DELETE above was refused).
    own = client.get(f"/api/v1/collections/{victim['collection_id']}", headers=victim["headers"])
    assert own.status_code == 200 and own.json["name"] == CANARY
