"""A small client of the public Chatlens API (the one HTTP client the CLI, demo and tests use)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import requests


class ApiError(RuntimeError):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class Client:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.timeout = timeout
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def _request(self, method: str, path: str, **kwargs) -> requests.Response:
        response = self.session.request(method, self.base_url + path,
                                        timeout=kwargs.pop("timeout", self.timeout), **kwargs)
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
        tokens = self._request("POST", "/api/v1/auth/login",
                               json={"email": email, "password": password}).json()
        self.session.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        return tokens

    def me(self) -> dict:
        return self._request("GET", "/api/v1/me").json()

    def create_collection(self, name: str, description: str = "") -> dict:
        return self._request("POST", "/api/v1/collections",
                             json={"name": name, "description": description}).json()

    def collections(self) -> list[dict]:
        return self._request("GET", "/api/v1/collections").json()["collections"]

    def upload(self, collection_id: str, paths: list[Path], fmt: str = "auto",
               timezone: str | None = None) -> list[dict]:
        handles = [("files", (p.name, open(p, "rb"))) for p in paths]
        data = {"format": fmt} | ({"timezone": timezone} if timezone else {})
        try:
            response = self._request("POST", f"/api/v1/collections/{collection_id}/uploads",
                                     files=handles, data=data, timeout=600)
        finally:
            for _, (_, handle) in handles:
                handle.close()
        return response.json()["jobs"]

    def job(self, job_id: str) -> dict:
        return self._request("GET", f"/api/v1/jobs/{job_id}").json()

    def job_events(self, job_id: str) -> Iterator[tuple[str, dict]]:
        """The job's server-sent events as (event, data) pairs, until the stream ends."""
        response = self._request("GET", f"/api/v1/jobs/{job_id}/events", stream=True,
                                 timeout=(10, 120))
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
        return self._request("POST", f"/api/v1/collections/{collection_id}/search",
                             json={"query": query, "k": k, **extra}).json()
