"""The real gateway app on loopback HTTP for the CLI's API commands, with a small stand-in for the
auth service (JWKS, login, refresh) that signs tokens with a test key, as auth does."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EMAIL, PASSWORD = "marta@example.com", "correct horse battery staple"


class FakeAuth:
    """Issues RS256 tokens like the auth service; counts refreshes."""

    def __init__(self, ttl_s: int = 300) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ttl_s = ttl_s
        self.refreshes = 0
        self.refresh_tokens: set[str] = set()

    def tokens(self, ttl_s: int | None = None) -> dict:
        import jwt

        now = int(time.time())
        claims = {
            "iss": "chatlens-auth",
            "aud": "chatlens",
            "sub": "user-a",
            "org": "org-a",
            "role": "owner",
            "typ": "access",
            "iat": now,
            "sid": "session-a",
            "perms": [
                "collections:read",
                "collections:write",
                "uploads:create",
                "search:read",
                "answers:create",
            ],
            "exp": now + (ttl_s if ttl_s is not None else self.ttl_s),
            "jti": uuid.uuid4().hex,
        }
        refresh = uuid.uuid4().hex
        self.refresh_tokens.add(refresh)
        return {
            "access_token": jwt.encode(
                claims, self.key, algorithm="RS256", headers={"kid": "test-key"}
            ),
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": self.ttl_s,
        }

    def jwks(self) -> dict:
        import jwt

        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": "test-key", "alg": "RS256", "use": "sig"})
        return {"keys": [jwk]}

    def answer(self, method: str, path: str, body: dict) -> tuple[int, dict]:
        if method == "GET" and path == "/.well-known/jwks.json":
            return 200, self.jwks()
        if method == "GET" and path == "/internal/v1/revocations":  # nothing revoked
            import jwt

            now = int(time.time())
            feed = {
                "iss": "chatlens-auth",
                "aud": "chatlens",
                "typ": "revocations",
                "iat": now,
                "exp": now + 60,
                "sessions": {},
                "users": {},
            }
            return 200, {
                "token": jwt.encode(feed, self.key, algorithm="RS256", headers={"kid": "test-key"})
            }
        if method == "POST" and path == "/api/v1/auth/login":
            if (body.get("email"), body.get("password")) == (EMAIL, PASSWORD):
                return 200, self.tokens()
            return 401, {"error": {"code": "invalid_credentials", "message": "wrong password"}}
        if method == "POST" and path == "/api/v1/auth/refresh":
            if body.get("refresh_token") in self.refresh_tokens:
                self.refresh_tokens.discard(body["refresh_token"])  # spent, as auth does
                self.refreshes += 1
                return 200, self.tokens()
            return 401, {"error": {"code": "invalid_token", "message": "spent"}}
        return 404, {"error": {"code": "not_found", "message": path}}


def serve(handler_class) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="session")
def fake_auth():
    auth = FakeAuth()

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, method):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            status, body = auth.answer(method, self.path, json.loads(raw) if raw else {})
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):  # noqa: N802
            self._reply("GET")

        def do_POST(self):  # noqa: N802
            self._reply("POST")

        def log_message(self, *args):
            pass

    server, url = serve(Handler)
    auth.url = url
    yield auth
    server.shutdown()


@pytest.fixture(scope="session")
def amqp_url():
    from chatlens.shared.testing import throwaway_vhost

    with throwaway_vhost("cli") as url:
        yield url


@pytest.fixture
def gateway(tmp_path, amqp_url, fake_auth):
    """The gateway's real app served over loopback; jobs are moved along by hand (no workers)."""
    from werkzeug.serving import make_server

    from chatlens.gateway.app import create_app
    from chatlens.gateway.config import GatewaySettings

    settings = GatewaySettings(
        data_dir=tmp_path / "server",
        database_url=f"sqlite:///{tmp_path / 'gateway.db'}",
        amqp_url=amqp_url,
        auth_url=fake_auth.url,
        background=False,
        max_upload_bytes=8 * 1024 * 1024,
    )
    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app.url = f"http://127.0.0.1:{server.server_port}"
    yield app
    server.shutdown()
    app.extensions["chatlens.bus"].close()
    app.extensions["chatlens.engine"].dispose()


@pytest.fixture
def cli_env(monkeypatch, tmp_path, gateway):
    """The CLI's environment: its own config folder, the gateway's URL, no token from outside."""
    monkeypatch.setenv("CHATLENS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("CHATLENS_URL", gateway.url)
    monkeypatch.delenv("CHATLENS_TOKEN", raising=False)
    return tmp_path / "config"
