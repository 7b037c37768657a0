"""Provider secrets: encrypted at rest with Fernet, rotatable (MultiFernet), never returned in
full to users; revealed only to services holding the internal token."""

from __future__ import annotations

from cryptography.fernet import Fernet
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from chatlens.auth.tables import ProviderSecret

VALUE = "sk-live-0123456789abcdefWXYZ"
INTERNAL = "internal-test-token"


def _org(api, tokens) -> str:
    return api.me(tokens["access_token"]).json["org"]["id"]


def test_a_secret_is_stored_encrypted_and_listed_with_a_hint_only(make_app, api_for):
    app = make_app(internal_token=INTERNAL)
    api = api_for(app)
    tokens = api.signed_in()
    put = api.call(
        "PUT",
        "/api/v1/auth/secrets/openai",
        tokens["access_token"],
        {"provider": "openai", "value": VALUE},
    )
    assert put.status_code == 200 and put.json["hint"] == "…WXYZ"
    listed = api.call("GET", "/api/v1/auth/secrets", tokens["access_token"]).json["secrets"]
    assert listed == [put.json] and VALUE not in str(listed)
    runtime = app.extensions["chatlens.auth"]
    with runtime.sessions() as session:
        stored = session.scalar(select(ProviderSecret.ciphertext))
    assert VALUE not in stored
    assert runtime.secret_box.fernet().decrypt(stored.encode()).decode() == VALUE

    client = app.test_client()
    body = {"org_id": _org(api, tokens), "name": "openai"}
    assert client.post("/internal/v1/secrets/reveal", json=body).status_code == 401
    revealed = client.post(
        "/internal/v1/secrets/reveal", json=body, headers={"X-Internal-Token": INTERNAL}
    )
    assert revealed.json == {"value": VALUE}
    other_org = client.post(
        "/internal/v1/secrets/reveal",
        json={**body, "org_id": "nope"},
        headers={"X-Internal-Token": INTERNAL},
    )
    assert other_org.status_code == 404

    # Rotation: a new first key, the secret re-encrypted and still readable; old keys dropped.
    old_keys = runtime.settings.secrets_key_path.read_text().split()
    result = FlaskCliRunner(app).invoke(args=["admin", "rotate-secrets-key", "--drop-old"])
    assert result.exit_code == 0 and "re-encrypted 1" in result.output
    new_keys = runtime.settings.secrets_key_path.read_text().split()
    assert len(new_keys) == 1 and new_keys[0] not in old_keys
    with runtime.sessions() as session:
        rotated = session.scalar(select(ProviderSecret.ciphertext))
    assert Fernet(new_keys[0].encode()).decrypt(rotated.encode()).decode() == VALUE
    again = client.post(
        "/internal/v1/secrets/reveal", json=body, headers={"X-Internal-Token": INTERNAL}
    )
    assert again.json == {"value": VALUE}


def test_without_an_internal_token_the_reveal_route_is_off(api, client):
    tokens = api.signed_in()
    api.call(
        "PUT",
        "/api/v1/auth/secrets/openai",
        tokens["access_token"],
        {"provider": "openai", "value": VALUE},
    )
    response = client.post(
        "/internal/v1/secrets/reveal", json={"org_id": _org(api, tokens), "name": "openai"}
    )
    assert response.status_code == 404


def test_only_admins_manage_secrets_and_names_are_checked(api):
    owner = api.signed_in("owner@example.com")
    invitation = api.call(
        "POST",
        "/api/v1/auth/invitations",
        owner["access_token"],
        {"email": "an@example.com", "role": "analyst"},
    ).json
    analyst = api.signed_in("an@example.com")
    api.call(
        "POST",
        "/api/v1/auth/invitations/accept",
        analyst["access_token"],
        {"token": invitation["token"]},
    )
    analyst = api.switch(analyst["refresh_token"], _org(api, owner)).json
    body = {"provider": "openai", "value": VALUE}
    assert (
        api.call("PUT", "/api/v1/auth/secrets/openai", analyst["access_token"], body).status_code
        == 403
    )
    assert (
        api.call("PUT", "/api/v1/auth/secrets/Bad Name!", owner["access_token"], body).status_code
        == 404
    )
    assert (
        api.call(
            "PUT", "/api/v1/auth/secrets/openai", owner["access_token"], {**body, "extra": 1}
        ).status_code
        == 422
    )
    assert (
        api.call("DELETE", "/api/v1/auth/secrets/openai", owner["access_token"]).status_code == 404
    )


def test_with_an_internal_token_every_internal_route_needs_it(make_app):
    client = make_app(internal_token=INTERNAL).test_client()
    for method, path in [
        ("GET", "/internal/v1/revocations"),
        ("POST", "/internal/v1/api-keys/verify"),
        ("POST", "/internal/v1/audit"),
    ]:
        refused = client.open(path, method=method, json={}, headers={"X-Internal-Token": "wrong"})
        assert refused.status_code == 401, path
        allowed = client.open(path, method=method, json={}, headers={"X-Internal-Token": INTERNAL})
        assert allowed.status_code in (200, 422), path


def test_with_no_new_key_the_key_the_operator_put_first_takes_over(make_app, api_for):
    """Kubernetes mounts the key file read-only: the operator puts a new key first in the
    Secret, and the command re-encrypts under it and adds none of its own."""
    app = make_app(internal_token=INTERNAL)
    api = api_for(app)
    tokens = api.signed_in()
    body = {"provider": "openai", "value": VALUE}
    api.call("PUT", "/api/v1/auth/secrets/openai", tokens["access_token"], body)
    runtime = app.extensions["chatlens.auth"]
    path = runtime.settings.secrets_key_path
    operators = Fernet.generate_key()
    path.write_bytes(operators + b"\n" + path.read_bytes())
    result = FlaskCliRunner(app).invoke(
        args=["admin", "rotate-secrets-key", "--no-new-key", "--drop-old"]
    )
    assert result.exit_code == 0 and "re-encrypted 1" in result.output, result.output
    assert path.read_bytes().split() == [operators]
    with runtime.sessions() as session:
        stored = session.scalar(select(ProviderSecret.ciphertext))
    assert Fernet(operators).decrypt(stored.encode()).decode() == VALUE
