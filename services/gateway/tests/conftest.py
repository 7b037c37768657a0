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
from chatlens.shared.testing import require_server, throwaway_vhost


@pytest.fixture(scope="session")
def signing_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def jwks_url(signing_key):
    """A JWKS served over loopback HTTP, as auth serves it; the gateway fetches and caches it."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key()))
    jwk.update({"kid": "test-key", "alg": "RS256", "use": "sig"})
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    server.shutdown()


@pytest.fixture
def make_token(signing_key):
    def make(org="org-a", user="user-a", role="owner", **overrides):
        now = int(time.time())
        claims = {"iss": "chatlens-auth", "aud": "chatlens", "sub": user, "org": org,
                  "role": role, "typ": "access", "iat": now, "exp": now + 300,
                  "jti": uuid.uuid4().hex} | overrides
        return jwt.encode(claims, signing_key, algorithm="RS256", headers={"kid": "test-key"})

    return make


@pytest.fixture(params=["sqlite", "mariadb"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}"
        return
    require_server("127.0.0.1", 3306, "MariaDB")
    import pymysql

    name = f"gw_test_{uuid.uuid4().hex[:8]}"
    admin = pymysql.connect(host="127.0.0.1", user="root", password="", autocommit=True)
    admin.cursor().execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    try:
        yield f"mysql+pymysql://root@127.0.0.1:3306/{name}?charset=utf8mb4"
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name}")
        admin.close()


@pytest.fixture(scope="session")
def amqp_url():
    with throwaway_vhost("gateway") as url:
        yield url


@pytest.fixture
def settings(tmp_path, database_url, amqp_url, jwks_url):
    return GatewaySettings(
        data_dir=tmp_path / "data", database_url=database_url, amqp_url=amqp_url,
        jwks_url=jwks_url, background=False,
        max_upload_bytes=2 * 1024 * 1024, search_timeout_s=3.0, sse_poll_s=0.05,
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
