"""GET /api/v1/quotas: what is left of the caller's org's daily quotas (files uploaded, tokens
generated), counted where the rate limiter counts them; asking spends nothing, another org's
spending never shows, and a viewer is refused."""

from __future__ import annotations

import uuid

import pytest

from chatlens.gateway import ratelimits

from .test_api import create_collection, upload


@pytest.fixture(params=["sqlite"])
def database_url(request, tmp_path):
    """One database is enough here: the counters live in the rate limiter, not in the tables."""
    return f"sqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"upload_quota_per_day": 5, "token_quota_per_day": 100})


def owner_of(auth, org):
    return auth(user=f"owner-{org}", org=org, role="owner")


def test_an_org_reads_what_is_left_of_its_quotas_and_reading_spends_nothing(
    app, client, auth, export_file
):
    org = f"org-{uuid.uuid4().hex[:8]}"
    headers = owner_of(auth, org)
    fresh = client.get("/api/v1/quotas", headers=headers)
    assert fresh.status_code == 200, fresh.json
    assert fresh.json == {
        "uploads": {"limit": 5, "used": 0, "remaining": 5, "resets_in_s": None},
        "tokens": {"limit": 100, "used": 0, "remaining": 100, "resets_in_s": None},
    }

    collection_id = create_collection(client, headers)
    content = export_file.read_bytes()
    assert (
        upload(client, headers, collection_id, [("a.txt", content), ("b.txt", content)]).status_code
        == 202
    )
    app.extensions["chatlens.ratelimits"].spend(ratelimits.TOKENS, org, 30)  # as a generation does

    analyst = auth(user=f"analyst-{org}", org=org, role="analyst")
    first = client.get("/api/v1/quotas", headers=analyst).json
    again = client.get("/api/v1/quotas", headers=analyst).json
    assert first == again
    assert {k: first["uploads"][k] for k in ("limit", "used", "remaining")} == {
        "limit": 5,
        "used": 2,
        "remaining": 3,
    }
    assert {k: first["tokens"][k] for k in ("limit", "used", "remaining")} == {
        "limit": 100,
        "used": 30,
        "remaining": 70,
    }
    assert 0 < first["uploads"]["resets_in_s"] <= 86400
    assert 0 < first["tokens"]["resets_in_s"] <= 86400


def test_another_orgs_spending_never_shows(app, client, auth):
    spender, other = f"org-{uuid.uuid4().hex[:8]}", f"org-{uuid.uuid4().hex[:8]}"
    app.extensions["chatlens.ratelimits"].spend(ratelimits.TOKENS, spender, 99)
    app.extensions["chatlens.ratelimits"].spend(ratelimits.UPLOADS, spender, 5)

    seen = client.get("/api/v1/quotas", headers=owner_of(auth, other)).json
    assert seen["tokens"]["remaining"] == 100 and seen["uploads"]["remaining"] == 5
    spent = client.get("/api/v1/quotas", headers=owner_of(auth, spender)).json
    assert spent["tokens"]["remaining"] == 1 and spent["uploads"]["remaining"] == 0


def test_a_viewer_and_a_stranger_are_refused(client, auth):
    viewer = client.get("/api/v1/quotas", headers=auth(user="v", org="o", role="viewer"))
    assert viewer.status_code == 403 and viewer.json["error"]["code"] == "forbidden"
    assert client.get("/api/v1/quotas").status_code == 401
