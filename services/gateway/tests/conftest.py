import json
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chatlens.gateway.app import create_app
from chatlens.gateway.config import GatewaySettings
from chatlens.shared.testing import throwaway_mariadb, throwaway_postgres, throwaway_vhost


@pytest.fixture(scope="session")
def signing_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# What auth's permission table (services/auth/.../permissions.py) gives each role; tokens carry it.
VIEWER_PERMS = ["collections:read", "search:read", "answers:create", "members:read", "keys:manage"]
ANALYST_PERMS = VIEWER_PERMS + ["collections:write", "uploads:create"]
ROLE_PERMS = {
    "viewer": VIEWER_PERMS,
    "analyst": ANALYST_PERMS,
    "admin": ANALYST_PERMS
    + ["members:manage", "audit:read", "secrets:manage", "webhooks:manage", "collections:purge"],
}
ROLE_PERMS["owner"] = ROLE_PERMS["admin"]
INTERNAL_TOKEN = "test-internal-token"


class FakeAuth:
    """Auth's public keys and internal endpoints, over loopback HTTP, as auth serves them.

    Tests change what it answers: ``revoked_sessions`` {sid: epoch} and ``valid_after``
    {user: epoch} go into the signed revocation feed; ``api_keys`` {key: verify answer} are the
    keys it accepts; ``audit`` collects appended events; ``down`` makes every internal call a 503;
    ``slow_s`` makes every internal call wait that long first (auth busy); ``calls`` counts
    requests by path;
    ``feed_ttl``, ``feed_signer`` and ``feed_claims`` change the feed's token. Anything under
    ``/api/v1/`` is echoed back as JSON (method, path, query, headers, body), to test the proxy.
    """

    def __init__(self, signing_key):
        self.signing_key = signing_key
        self.url = ""
        self.reset()

    def reset(self):
        self.revoked_sessions: dict[str, int] = {}
        self.valid_after: dict[str, int] = {}
        self.api_keys: dict[str, dict] = {}
        self.down = False
        self.slow_s = 0.0
        self.calls: dict[str, int] = {}
        self.internal_tokens: list[str | None] = []
        self.audit: list[dict] = []
        self.feed_ttl = 60
        self.feed_signer = None
        self.feed_claims: dict = {}

    def feed(self) -> dict:
        now = int(time.time())
        claims = {
            "iss": "chatlens-auth",
            "aud": "chatlens",
            "typ": "revocations",
            "iat": now,
            "exp": now + self.feed_ttl,
            "sessions": self.revoked_sessions,
            "users": self.valid_after,
        } | self.feed_claims
        token = jwt.encode(
            claims,
            self.feed_signer or self.signing_key,
            algorithm="RS256",
            headers={"kid": "test-key"},
        )
        return {"token": token}


@pytest.fixture(scope="session")
def fake_auth_server(signing_key):
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key()))
    jwk.update({"kid": "test-key", "alg": "RS256", "use": "sig"})
    jwks = {"keys": [jwk]}
    fake = FakeAuth(signing_key)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _internal(self):
            fake.calls[self.path] = fake.calls.get(self.path, 0) + 1
            fake.internal_tokens.append(self.headers.get("X-Internal-Token"))
            time.sleep(fake.slow_s)
            if fake.down:
                self._answer(503, {"error": {"code": "unavailable", "message": "down"}})
                return False
            return True

        def _echo(self):
            length = int(self.headers.get("Content-Length", 0) or 0)
            path, _, query = self.path.partition("?")
            data = json.dumps(
                {
                    "method": self.command,
                    "path": path,
                    "query": query,
                    "headers": dict(self.headers.items()),
                    "body": self.rfile.read(length).decode(),
                }
            ).encode()
            self.send_response(201 if self.command == "POST" else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (
                ("Cache-Control", "no-store"),
                ("Pragma", "no-cache"),
                ("Location", "/api/v1/auth/somewhere"),
                ("Set-Cookie", "tracker=1"),
                ("Server-Timing", "db;dur=1"),
            ):
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_PUT = do_PATCH = do_DELETE = _echo  # noqa: N815

        def do_GET(self):  # noqa: N802
            if self.path.startswith("/api/v1/"):
                self._echo()
            elif self.path == "/.well-known/jwks.json":
                self._answer(200, jwks)
            elif self.path == "/internal/v1/revocations":
                if self._internal():
                    self._answer(200, fake.feed())
            else:
                self._answer(404, {"error": {"code": "not_found", "message": self.path}})

        def do_POST(self):  # noqa: N802
            if self.path.startswith("/api/v1/"):
                self._echo()
                return
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            if self.path == "/internal/v1/audit":
                if self._internal():
                    fake.audit.append(body)
                    self._answer(201, {"recorded": body["event"]})
            elif self.path != "/internal/v1/api-keys/verify":
                self._answer(404, {"error": {"code": "not_found", "message": self.path}})
            elif self._internal():
                answer = fake.api_keys.get(body.get("key"))
                if answer is None:
                    self._answer(401, {"error": {"code": "invalid_api_key", "message": "no"}})
                else:
                    self._answer(200, answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    server.shutdown()


@pytest.fixture
def fake_auth(fake_auth_server):
    fake_auth_server.reset()
    yield fake_auth_server
    fake_auth_server.reset()


@pytest.fixture
def make_token(signing_key):
    def make(org="org-a", user="user-a", role="owner", **overrides):
        now = int(time.time())
        claims = {
            "iss": "chatlens-auth",
            "aud": "chatlens",
            "sub": user,
            "org": org,
            "role": role,
            "perms": ROLE_PERMS.get(role, []),
            "sid": uuid.uuid4().hex,
            "typ": "access",
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        } | overrides
        claims = {k: v for k, v in claims.items() if v is not None}  # None: leave the claim out
        return jwt.encode(claims, signing_key, algorithm="RS256", headers={"kid": "test-key"})

    return make


@pytest.fixture(params=["sqlite", "mariadb", "postgres"])
def database_url(request, tmp_path):
    """An empty database: a SQLite file, or a throw-away MariaDB or PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}"
        return
    throwaway = throwaway_mariadb if request.param == "mariadb" else throwaway_postgres
    with throwaway("gw_test") as url:
        yield url


@pytest.fixture(scope="session")
def amqp_url():
    with throwaway_vhost("gateway") as url:
        yield url


@pytest.fixture
def settings(tmp_path, database_url, amqp_url, fake_auth):
    return GatewaySettings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        amqp_url=amqp_url,
        auth_url=fake_auth.url,
        internal_token=INTERNAL_TOKEN,
        revocations_refresh_s=0.2,
        background=False,
        max_upload_bytes=2 * 1024 * 1024,
        search_timeout_s=3.0,
        sse_poll_s=0.05,
        # Tests read the steps; test_headers checks the product's default (off) on its own.
        server_timing=True,
    )


@pytest.fixture
def app(settings):
    app = create_app(settings)
    yield app
    app.extensions["chatlens.bus"].close()
    app.extensions["chatlens.engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth(make_token):
    return lambda **kw: {"Authorization": f"Bearer {make_token(**kw)}"}


WHATSAPP = (
    "12/03/2024, 09:15 - Marta: Booked the venue in Lisbon for the offsite\n"
    "12/03/2024, 09:16 - Sam: great, thanks!\n"
)


@pytest.fixture
def export_file(tmp_path):
    path = tmp_path / "WhatsApp Chat with Team.txt"
    path.write_text(WHATSAPP)
    return path


os.environ.setdefault("HF_HUB_OFFLINE", "1")
