"""The OpenAPI document against the REAL auth service: every public route auth serves is in the
document (and nothing auth lacks), and every answer auth gives through the gateway, success and
error alike, has a status the document declares and a body its schema accepts.

The web app's typed client is generated from this document, so a route or a field that drifts
in auth fails here rather than in the browser."""

import re
import threading
import uuid

import pyotp
import pytest
from jsonschema import Draft202012Validator
from werkzeug.serving import make_server

from chatlens.auth.app import create_app as create_auth_app
from chatlens.auth.config import AuthSettings

INTERNAL_TOKEN = "openapi-internal-token"
PASSWORD = "a long and uncommon passphrase 7"
# Only a real provider can complete a sign-in or a link, so the callback's success and an
# unlink's are not exercised (auth's test_oauth does both against a provider on loopback).
NOT_EXERCISED = {
    ("get", "/api/v1/auth/oauth/{name}/callback", 200),
    ("post", "/api/v1/auth/oauth/identities/{name}/unlink", 204),
}


@pytest.fixture(scope="module")
def real_auth(tmp_path_factory):
    folder = tmp_path_factory.mktemp("auth")
    settings = AuthSettings(
        data_dir=folder,
        database_url=f"sqlite:///{folder / 'auth.db'}",
        internal_token=INTERNAL_TOKEN,
        argon2_time_cost=1,
        argon2_memory_kib=8,
        argon2_parallelism=1,
        oauth_github_client_id="chatlens-test",
        oauth_github_client_secret="not-a-secret",
        oauth_github_authorize_url="http://127.0.0.1:9/authorize",
    )
    app = create_auth_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "app": app}
    server.shutdown()


@pytest.fixture
def database_url(tmp_path):  # one database is enough: auth's bodies are what is under test
    return f"sqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture
def settings(settings, real_auth):
    return settings.model_copy(
        update={"auth_url": real_auth["url"], "jwks_url": None, "internal_token": INTERNAL_TOKEN}
    )


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json


def auth_operations(document) -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, ops in document["paths"].items()
        if path.startswith("/api/v1/auth/") or path == "/api/v1/me"
        for method in ops
    }


def test_the_document_has_every_public_route_of_auth_and_no_other(real_auth, document):
    served = set()
    for rule in real_auth["app"].url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue  # /internal/*, /.well-known/*, health and metrics are not relayed
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        served |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert served - auth_operations(document) == set(), "auth serves routes the document lacks"
    assert auth_operations(document) - served == set(), "the document has routes auth lacks"
    assert "/api/v1/auth/{rest}" not in document["paths"]


def test_public_routes_need_no_token_and_the_others_a_bearer(document):
    public = {
        path
        for path, ops in document["paths"].items()
        for op in ops.values()
        if op.get("security") == []
    }
    assert {
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/switch",
        "/api/v1/auth/jwks.json",
    } <= public
    assert document["security"] == [{"bearer": []}]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    login = document["paths"]["/api/v1/auth/login"]["post"]
    pair = login["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    example = document["components"]["schemas"][pair.rsplit("/", 1)[1]]["examples"][0]
    assert example["token_type"] == "Bearer" and example["access_token"].startswith("eyJ")


class Checker:
    """Calls the gateway and checks each answer against the document; remembers what it saw."""

    def __init__(self, client, document):
        self.client, self.document, self.seen = client, document, set()

    def __call__(self, method, template, *, expect, token=None, path=None, headers=(), **kwargs):
        headers = dict(headers) | ({"Authorization": f"Bearer {token}"} if token else {})
        response = self.client.open(
            path or template, method=method.upper(), headers=headers, **kwargs
        )
        assert response.status_code == expect, (method, template, response.get_data(True))
        declared = self.document["paths"][template][method]["responses"]
        assert str(expect) in declared, f"{method} {template} answers {expect}, not declared"
        content = declared[str(expect)].get("content")
        if content is None:
            assert not response.get_data(), f"{method} {template} {expect} has an undocumented body"
        else:
            schema = {
                **content["application/json"]["schema"],
                "components": self.document["components"],
            }
            errors = [
                f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in Draft202012Validator(schema).iter_errors(response.json)
            ]
            assert not errors, f"{method} {template} {expect}: {errors}"
        self.seen.add((method, template, expect))
        return response.json if content else None


def test_every_answer_of_auth_matches_the_document(client, document, real_auth):
    check = Checker(client, document)
    tag = uuid.uuid4().hex[:8]
    owner_email, member_email = f"owner-{tag}@example.com", f"member-{tag}@example.com"
    body = {"email": owner_email, "password": PASSWORD, "name": "Owner"}
    check("post", "/api/v1/auth/register", json=body, expect=201)
    check("post", "/api/v1/auth/register", json=body, expect=409)
    check("post", "/api/v1/auth/register", json={"email": "x@example.com"}, expect=422)
    check("post", "/api/v1/auth/register", data="{", content_type="application/json", expect=400)
    check(
        "post", "/api/v1/auth/login", json={"email": owner_email, "password": "wrong!"}, expect=401
    )
    pair = check(
        "post", "/api/v1/auth/login", json={"email": owner_email, "password": PASSWORD}, expect=200
    )
    token = pair["access_token"]
    check("get", "/api/v1/me", token=token, expect=200)
    check("get", "/api/v1/me", expect=401)
    check("get", "/api/v1/auth/jwks.json", expect=200)

    # The web app's cookie mode: the pair comes back without its refresh token.
    browser = {"X-Chatlens-Session": "cookie", "Origin": "https://localhost"}
    in_cookie = check(
        "post",
        "/api/v1/auth/login",
        headers=browser,
        base_url="https://localhost",
        json={"email": owner_email, "password": PASSWORD},
        expect=200,
    )
    assert "refresh_token" not in in_cookie
    check("post", "/api/v1/auth/refresh", headers=browser, base_url="https://localhost", expect=200)
    check(
        "post",
        "/api/v1/auth/refresh",
        headers={**browser, "Origin": "https://elsewhere"},
        base_url="https://localhost",
        expect=403,
    )

    # Orgs, switching, members and invitations; refresh tokens on a second device.
    check("get", "/api/v1/auth/orgs", token=token, expect=200)
    other = check("post", "/api/v1/auth/orgs", token=token, json={"name": "Side org"}, expect=201)
    spare = _signed_in(check, owner_email)
    fresh = check(
        "post", "/api/v1/auth/refresh", json={"refresh_token": spare["refresh_token"]}, expect=200
    )
    switch = {"refresh_token": fresh["refresh_token"], "org_id": other["id"]}
    check("post", "/api/v1/auth/switch", json=switch, expect=200)
    check("post", "/api/v1/auth/switch", json=switch, expect=401)  # spent: the family ends
    check("post", "/api/v1/auth/refresh", json={"refresh_token": "made-up"}, expect=401)
    check("get", "/api/v1/auth/members", token=token, expect=200)
    invited = check(
        "post",
        "/api/v1/auth/invitations",
        token=token,
        expect=201,
        json={"email": member_email, "role": "analyst"},
    )
    check("get", "/api/v1/auth/invitations", token=token, expect=200)
    check(
        "post",
        "/api/v1/auth/register",
        json={"email": member_email, "password": PASSWORD},
        expect=201,
    )
    member = _signed_in(check, member_email)["access_token"]
    check(
        "post",
        "/api/v1/auth/invitations/accept",
        token=member,
        expect=200,
        json={"token": invited["token"]},
    )
    check(
        "post",
        "/api/v1/auth/invitations/accept",
        token=member,
        expect=404,
        json={"token": "no-such-invitation"},
    )
    member_id = check("get", "/api/v1/me", token=member, expect=200)["id"]
    members = "/api/v1/auth/members/{user_id}"
    check(
        "patch",
        members,
        path=f"/api/v1/auth/members/{member_id}",
        token=token,
        json={"role": "viewer"},
        expect=200,
    )
    check(
        "patch",
        members,
        path="/api/v1/auth/members/nobody",
        token=token,
        json={"role": "viewer"},
        expect=404,
    )
    check("delete", members, path=f"/api/v1/auth/members/{member_id}", token=token, expect=204)
    second = check(
        "post",
        "/api/v1/auth/invitations",
        token=token,
        expect=201,
        json={"email": f"later-{tag}@example.com", "role": "viewer"},
    )
    check(
        "delete",
        "/api/v1/auth/invitations/{invitation_id}",
        token=token,
        expect=204,
        path=f"/api/v1/auth/invitations/{second['id']}",
    )

    # API keys, provider secrets, sessions and the audit log.
    key = check(
        "post",
        "/api/v1/auth/api-keys",
        token=token,
        expect=201,
        json={"name": "ci", "scopes": ["search:read"]},
    )
    check(
        "post",
        "/api/v1/auth/api-keys",
        token=token,
        expect=422,
        json={"name": "ci", "scopes": ["root"]},
    )
    check("get", "/api/v1/auth/api-keys", token=token, expect=200)
    check(
        "delete",
        "/api/v1/auth/api-keys/{key_id}",
        path=f"/api/v1/auth/api-keys/{key['id']}",
        token=token,
        expect=204,
    )
    check(
        "delete",
        "/api/v1/auth/api-keys/{key_id}",
        path="/api/v1/auth/api-keys/nothing",
        token=token,
        expect=404,
    )
    secret = "/api/v1/auth/secrets/{name}"
    check(
        "put",
        secret,
        path="/api/v1/auth/secrets/openai",
        token=token,
        expect=200,
        json={"provider": "openai", "value": "sk-test-1234567890"},
    )
    check("get", "/api/v1/auth/secrets", token=token, expect=200)
    check("delete", secret, path="/api/v1/auth/secrets/openai", token=token, expect=204)
    check("delete", secret, path="/api/v1/auth/secrets/openai", token=token, expect=404)
    elsewhere = _signed_in(check, owner_email)["access_token"]
    sessions = check("get", "/api/v1/auth/sessions", token=elsewhere, expect=200)["sessions"]
    mine = next(s["id"] for s in sessions if s["current"])
    check(
        "delete",
        "/api/v1/auth/sessions/{session_id}",
        token=token,
        expect=204,
        path=f"/api/v1/auth/sessions/{mine}",
    )
    check(
        "delete",
        "/api/v1/auth/sessions/{session_id}",
        token=token,
        expect=404,
        path=f"/api/v1/auth/sessions/{mine}",
    )
    check("get", "/api/v1/auth/audit", path="/api/v1/auth/audit?limit=3", token=token, expect=200)
    check("get", "/api/v1/auth/audit", path="/api/v1/auth/audit?limit=0", token=token, expect=422)

    # MFA: enrol, confirm, new recovery codes, turn off.
    check("get", "/api/v1/auth/mfa", token=token, expect=200)
    check(
        "post", "/api/v1/auth/mfa/recovery-codes", token=token, json={"code": "123456"}, expect=404
    )
    enrolled = check("post", "/api/v1/auth/mfa/totp", token=token, expect=201)
    check("post", "/api/v1/auth/mfa/totp/confirm", token=token, json={"code": "000000"}, expect=401)
    turned_on = check(
        "post",
        "/api/v1/auth/mfa/totp/confirm",
        token=token,
        expect=200,
        json={"code": pyotp.TOTP(enrolled["secret"]).now()},
    )
    token = turned_on["access_token"]
    check("post", "/api/v1/auth/mfa/totp", token=token, expect=409)
    check(
        "post", "/api/v1/auth/login", json={"email": owner_email, "password": PASSWORD}, expect=401
    )
    codes = check(
        "post",
        "/api/v1/auth/mfa/recovery-codes",
        token=token,
        expect=200,
        json={"code": turned_on["recovery_codes"][0]},
    )["recovery_codes"]
    check(
        "post",
        "/api/v1/auth/mfa/totp/disable",
        token=token,
        expect=401,
        json={"password": "wrong password", "code": codes[0]},
    )
    token = check(
        "post",
        "/api/v1/auth/mfa/totp/disable",
        token=token,
        expect=200,
        json={"password": PASSWORD, "code": codes[1]},
    )["access_token"]
    check(
        "post",
        "/api/v1/auth/mfa/totp/disable",
        token=token,
        expect=404,
        json={"password": PASSWORD, "code": codes[2]},
    )

    # OAuth, password, logout.
    check("get", "/api/v1/auth/oauth/providers", expect=200)
    start = "/api/v1/auth/oauth/{name}/start"
    check("get", start, path="/api/v1/auth/oauth/github/start", expect=200)
    check("get", start, path="/api/v1/auth/oauth/github/start", token=token, expect=200)
    check("get", start, path="/api/v1/auth/oauth/nowhere/start", expect=404)
    callback = "/api/v1/auth/oauth/{name}/callback"
    check(
        "get", callback, path="/api/v1/auth/oauth/github/callback?error=access_denied", expect=400
    )
    check("get", callback, path="/api/v1/auth/oauth/nowhere/callback", expect=404)
    check("get", "/api/v1/auth/oauth/identities", token=token, expect=200)
    check("get", "/api/v1/auth/oauth/identities", expect=401)
    unlink = "/api/v1/auth/oauth/identities/{name}/unlink"
    github = "/api/v1/auth/oauth/identities/github/unlink"
    check("post", unlink, path=github, token=token, json={"password": "not it"}, expect=401)
    check("post", unlink, path=github, token=token, json={"password": PASSWORD}, expect=404)
    check("post", unlink, path=github, token=token, json={}, expect=422)
    check(
        "post",
        "/api/v1/auth/password",
        token=token,
        expect=401,
        json={"current_password": "not it", "new_password": PASSWORD + "!"},
    )
    pair = check(
        "post",
        "/api/v1/auth/password",
        token=token,
        expect=200,
        json={"current_password": PASSWORD, "new_password": PASSWORD + "!"},
    )
    check(
        "post",
        "/api/v1/auth/logout",
        token=pair["access_token"],
        expect=204,
        json={"refresh_token": pair["refresh_token"]},
    )
    check("post", "/api/v1/auth/logout", token=member, expect=401)  # ended by the role change
    check(
        "post",
        "/api/v1/auth/logout",
        token=_signed_in(check, member_email)["access_token"],
        expect=204,
    )
    # Password reset: always 202; the token from the admin CLI (no SMTP here), once.
    reset = "/api/v1/auth/password-reset"
    check("post", reset, json={"email": "nobody@example.com"}, expect=202)
    check("post", reset, json={"email": member_email}, expect=202)
    link = real_auth["app"].test_cli_runner().invoke(args=["admin", "reset-link", member_email])
    token = link.output.strip().rsplit("#token=", 1)[1]
    confirmed = {"token": token, "new_password": PASSWORD}
    check("post", reset + "/confirm", json=confirmed, expect=204)
    check("post", reset + "/confirm", json=confirmed, expect=400)
    check("post", "/api/v1/auth/logout-all", token=elsewhere, expect=401)
    check(
        "post",
        "/api/v1/auth/logout-all",
        token=_signed_in(check, member_email)["access_token"],
        expect=204,
    )

    # Every documented success answer was seen, bar what needs a real provider.
    successes = {
        (method, path, int(next(iter(op["responses"]))))
        for method, path in auth_operations(document)
        for op in [document["paths"][path][method]]
    }
    assert successes - check.seen - NOT_EXERCISED == set()


def _signed_in(check, email):
    return check(
        "post", "/api/v1/auth/login", json={"email": email, "password": PASSWORD}, expect=200
    )
