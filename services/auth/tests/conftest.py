"""Fixtures of the auth tests. Every test that touches the database runs three times: on a SQLite
file, on a throw-away MariaDB database and on a throw-away PostgreSQL database (a missing server is
skipped on a laptop, failed if CI is set)."""

from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass

import pymysql
import pytest
from flask import Flask
from flask.testing import FlaskClient

from chatlens.auth.app import create_app
from chatlens.auth.config import AuthSettings
from chatlens.auth.runtime import EXTENSION, Runtime
from chatlens.shared.testing import require_server, throwaway_postgres, unavailable

MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}
PASSWORD = "correct horse battery staple"
# argon2's cheapest legal parameters: the tests check behaviour, not hashing cost.
CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 8, "argon2_parallelism": 1}


def mariadb_connection() -> pymysql.Connection:
    require_server("127.0.0.1", 3306, "MariaDB")
    try:
        return pymysql.connect(**MARIADB, connect_timeout=3, autocommit=True)
    except pymysql.err.OperationalError as exc:
        unavailable(f"MariaDB is unreachable on 127.0.0.1:3306: {exc}")


@pytest.fixture(params=["sqlite", "mariadb", "postgres"])
def database_url(request, tmp_path):
    """An empty database: a SQLite file, or a uniquely named MariaDB or PostgreSQL database
    dropped after."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'auth.db'}"
        return
    if request.param == "postgres":
        with throwaway_postgres("chatlens_auth_test") as url:
            yield url
        return
    connection = mariadb_connection()
    name = f"chatlens_auth_test_{uuid.uuid4().hex[:16]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        connection.close()


@pytest.fixture(scope="session")
def shared_key_path(tmp_path_factory):
    """One signing key for the whole session: RSA generation is the slow part of create_app."""
    return tmp_path_factory.mktemp("keys") / "jwt-private.pem"


@pytest.fixture
def make_settings(database_url, shared_key_path, tmp_path):
    def make(**overrides) -> AuthSettings:
        values = {
            "data_dir": tmp_path / "data",
            "database_url": database_url,
            "jwt_private_key_path": shared_key_path,
            **CHEAP_ARGON2,
            # No broadcasts to the broker's default vhost from every test's app (test_broadcasts
            # records them; services/gateway/tests/test_revocation_push sends them for real).
            "publish_revocations": False,
            **overrides,
        }
        return AuthSettings(**values)

    return make


@pytest.fixture
def make_app(make_settings):
    """Builds apps over the test's database; their engines are closed before it is dropped."""
    apps: list[Flask] = []

    def make(**overrides) -> Flask:
        app = create_app(make_settings(**overrides))
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions[EXTENSION].engine.dispose()


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


@pytest.fixture
def runtime(app) -> Runtime:
    return app.extensions[EXTENSION]


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@dataclass
class AuthApi:
    """The auth API as a test talks to it."""

    client: FlaskClient

    def register(self, email="ada@example.com", password=PASSWORD, **extra):
        return self.client.post(
            "/api/v1/auth/register", json={"email": email, "password": password, **extra}
        )

    def login(self, email="ada@example.com", password=PASSWORD):
        return self.client.post("/api/v1/auth/login", json={"email": email, "password": password})

    def signed_in(self, email="ada@example.com", password=PASSWORD) -> dict:
        """Register and log in; the token pair."""
        assert self.register(email, password).status_code == 201
        response = self.login(email, password)
        assert response.status_code == 200, response.json
        return response.json

    def refresh(self, refresh_token: str):
        return self.client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})

    def me(self, access_token: str):
        return self.client.get("/api/v1/me", headers={"Authorization": f"Bearer {access_token}"})

    def call(self, method: str, path: str, access_token: str | None = None, json=None):
        """Any request, with a bearer token when given."""
        headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        return self.client.open(path, method=method, json=json, headers=headers)

    def switch(self, refresh_token: str, org_id: str):
        return self.client.post(
            "/api/v1/auth/switch", json={"refresh_token": refresh_token, "org_id": org_id}
        )

    def logout(self, access_token: str, **body):
        return self.client.post(
            "/api/v1/auth/logout",
            json=body or None,
            headers={"Authorization": f"Bearer {access_token}"},
        )


@pytest.fixture
def api(client) -> AuthApi:
    return AuthApi(client)


@pytest.fixture
def unused_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def api_for():
    """The test API over another app (one built with other settings)."""
    return lambda app: AuthApi(app.test_client())
