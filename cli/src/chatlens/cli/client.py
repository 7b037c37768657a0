"""A small client of the public Chatlens API (the one HTTP client the CLI, demo and tests use)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import requests
from requests_toolbelt import MultipartEncoder, MultipartEncoderMonitor

# Refresh the access token when it has less than this left: an upload must not outlive it.
REFRESH_MARGIN_S = 60


class ApiError(RuntimeError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class Client:
    """``refresh_token`` lets the client renew its access token before it expires, and
    ``on_tokens`` is told every new pair (the CLI writes it to its config file)."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        timeout: float = 60.0,
        *,
        refresh_token: str | None = None,
        on_tokens: Callable[[dict], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.timeout = timeout
        self.token, self.refresh_token, self.on_tokens = token, refresh_token, on_tokens
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def _use(self, tokens: dict) -> dict:
        self.token = tokens["access_token"]
        self.refresh_token = tokens.get("refresh_token", self.refresh_token)
        self.session.headers["Authorization"] = f"Bearer {self.token}"
        if self.on_tokens:
            self.on_tokens(tokens)
        return tokens

    def _refresh_if_expiring(self) -> None:
        if not (self.token and self.refresh_token):
            return
        if token_expiry(self.token) - time.time() > REFRESH_MARGIN_S:
            return
        tokens = self._send(
            "POST", "/api/v1/auth/refresh", json={"refresh_token": self.refresh_token}
        ).json()
        self._use(tokens)

    def _request(self, method: str, path: str, **kwargs) -> requests.Response:
        if not path.startswith("/api/v1/auth/"):
            self._refresh_if_expiring()
        return self._send(method, path, **kwargs)

    def _send(self, method: str, path: str, **kwargs) -> requests.Response:
        response = self.session.request(
            method, self.base_url + path, timeout=kwargs.pop("timeout", self.timeout), **kwargs
        )
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                error = {"code": "http_error", "message": response.text[:300]}
            raise ApiError(response.status_code, error.get("code", "?"), error.get("message", ""))
        return response

    def register(self, email: str, password: str, name: str | None = None) -> dict:
        body = {"email": email, "password": password} | ({"name": name} if name else {})
        return self._request("POST", "/api/v1/auth/register", json=body).json()

    def login(self, email: str, password: str) -> dict:
        tokens = self._request(
            "POST", "/api/v1/auth/login", json={"email": email, "password": password}
        ).json()
        return self._use(tokens)

    def create_api_key(self, name: str, scopes: list[str], expires_in_days: int = 1) -> dict:
        """A new API key (``clk_…``, in ``["key"]``, shown this once) with ``scopes``."""
        body = {"name": name, "scopes": scopes, "expires_in_days": expires_in_days}
        return self._request("POST", "/api/v1/auth/api-keys", json=body).json()

    def me(self) -> dict:
        return self._request("GET", "/api/v1/me").json()

    def create_collection(self, name: str, description: str = "") -> dict:
        return self._request(
            "POST", "/api/v1/collections", json={"name": name, "description": description}
        ).json()

    def collections(self) -> list[dict]:
        return self._request("GET", "/api/v1/collections").json()["collections"]

    def upload(
        self, collection_id: str, paths: list[Path], fmt: str = "auto", timezone: str | None = None
    ) -> list[dict]:
        handles = [("files", (p.name, open(p, "rb"))) for p in paths]
        data = {"format": fmt} | ({"timezone": timezone} if timezone else {})
        try:
            response = self._request(
                "POST",
                f"/api/v1/collections/{collection_id}/uploads",
                files=handles,
                data=data,
                timeout=600,
            )
        finally:
            for _, (_, handle) in handles:
                handle.close()
        return response.json()["jobs"]

    def upload_file(
        self,
        collection_id: str,
        path: Path,
        fmt: str = "auto",
        timezone: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict:
        """One file as a streamed multipart body (never read whole into memory); ``progress``
        is called with (bytes sent, body size) as it goes. The accepted job."""
        with open(path, "rb") as handle:
            fields = {
                "format": fmt,
                **({"timezone": timezone} if timezone else {}),
                "files": (path.name, handle, "application/octet-stream"),
            }
            encoder = MultipartEncoder(fields=fields)
            monitor = MultipartEncoderMonitor(
                encoder, (lambda m: progress(m.bytes_read, m.len)) if progress else None
            )
            response = self._request(
                "POST",
                f"/api/v1/collections/{collection_id}/uploads",
                data=monitor,
                headers={"Content-Type": monitor.content_type},
                timeout=(10, 600),
            )
        return response.json()["jobs"][0]

    def job(self, job_id: str) -> dict:
        return self._request("GET", f"/api/v1/jobs/{job_id}").json()

    def job_events(self, job_id: str) -> Iterator[tuple[str, dict]]:
        """The job's server-sent events as (event, data) pairs, until the stream ends."""
        response = self._request(
            "GET", f"/api/v1/jobs/{job_id}/events", stream=True, timeout=(10, 120)
        )
        event, data = "message", []
        for line in response.iter_lines(decode_unicode=True):
            if line is None:
                continue
            if line == "":
                if data:
                    yield event, json.loads("\n".join(data))
                event, data = "message", []
            elif line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())

    def search(self, collection_id: str, query: str, k: int = 5, **extra) -> dict:
        return self._request(
            "POST",
            f"/api/v1/collections/{collection_id}/search",
            json={"query": query, "k": k, **extra},
        ).json()

    def ask(self, collection_id: str, question: str) -> dict:
        return self._request(
            "POST",
            f"/api/v1/collections/{collection_id}/ask",
            json={"question": question},
            timeout=300,
        ).json()


def token_expiry(token: str) -> float:
    """The ``exp`` claim of a JWT, read without verifying it (the server verifies); 0 if none."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims.get("exp", 0))
    except (IndexError, ValueError, TypeError, AttributeError):
        return 0.0
