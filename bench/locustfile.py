"""The load scenario of ``bench/load_bench.py`` (which starts the stack, prepares the accounts and
runs this file with locust): each simulated user signs in to the shared org, then searches,
opens dashboards, asks (streamed), lists collections and now and then uploads a small export.

Configured through the environment by the orchestrator: ``CHATLENS_LOAD_SETUP`` (JSON: the
accounts, the org, the collection, the queries and questions). A rate-limit refusal (429) is
recorded as a failure named ``429 rate limited``, so the report can tell deliberate refusals
from errors.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from datetime import datetime, timedelta

from locust import HttpUser, between, events, task

SETUP = json.loads(os.environ.get("CHATLENS_LOAD_SETUP", "{}"))
_accounts = itertools.cycle(SETUP.get("accounts", [{}]))
NAMES = ("Marta", "Jonas", "Priya", "Tom", "Inês")


class ChatlensUser(HttpUser):
    """One person using the web app's API: think time of 1-3 s between actions."""

    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.account = next(_accounts)
        self.collection = SETUP["collection_id"]
        self.sign_in()

    def sign_in(self) -> None:
        with self.client.post(
            "/api/v1/auth/login",
            name="login",
            catch_response=True,
            json={"email": self.account["email"], "password": self.account["password"]},
        ) as response:
            if not self._ok(response):
                return
            pair = response.json()
        # The member's token for the shared org (login gives their personal org's).
        with self.client.post(
            "/api/v1/auth/switch",
            name="switch org",
            catch_response=True,
            json={"refresh_token": pair["refresh_token"], "org_id": SETUP["org_id"]},
        ) as response:
            if self._ok(response):
                self.token = response.json()["access_token"]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, 'token', '')}"}

    def _ok(self, response) -> bool:
        """Sort the answer: 429 and a shed 503 (generation_busy) are deliberate refusals, an
        expired token signs in again."""
        if response.status_code == 429:
            response.failure("429 rate limited")
            return False
        if response.status_code == 503 and b"generation_busy" in response.content[:200]:
            response.failure("503 busy: every generation slot taken (Retry-After)")
            return False
        if response.status_code == 401:
            response.failure("401 signed out")
            self.sign_in()
            return False
        if response.status_code >= 400:
            response.failure(f"{response.status_code} {response.text[:120]}")
            return False
        response.success()
        return True

    @task(10)
    def search(self) -> None:
        body = {
            "query": random.choice(SETUP["queries"]),
            "k": 10,
            "mode": random.choice(("hybrid", "hybrid", "semantic", "keyword")),
        }
        with self.client.post(
            f"/api/v1/collections/{self.collection}/search",
            json=body,
            headers=self.headers,
            name="search",
            catch_response=True,
        ) as response:
            self._ok(response)

    @task(3)
    def dashboard(self) -> None:
        for report in ("overview", "activity", "people"):
            with self.client.get(
                f"/api/v1/collections/{self.collection}/analytics/{report}",
                headers=self.headers,
                name=f"analytics {report}",
                catch_response=True,
            ) as response:
                self._ok(response)

    @task(2)
    def collections(self) -> None:
        with self.client.get(
            "/api/v1/collections", headers=self.headers, name="collections", catch_response=True
        ) as response:
            self._ok(response)

    @task(1)
    def ask(self) -> None:
        """A streamed answer: the request's time is its first byte; the whole stream is
        reported as ``ask (whole stream)``."""
        started = time.perf_counter()
        body = {"question": random.choice(SETUP["questions"]), "stream": True}
        with self.client.post(
            f"/api/v1/collections/{self.collection}/ask",
            json=body,
            headers=self.headers,
            name="ask (first byte)",
            stream=True,
            catch_response=True,
        ) as response:
            if not self._ok(response):
                return
            size, error = 0, None
            try:
                for line in response.iter_lines():
                    size += len(line)
                    if line.startswith(b"event: error"):
                        error = RuntimeError("the answer's stream ended in an error event")
            except Exception as exc:  # a broken stream is an error of the whole answer
                error = exc
        events.request.fire(
            request_type="POST",
            name="ask (whole stream)",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=size,
            exception=error,
            context={},
        )

    @task(1)
    def upload(self) -> None:
        """A small export of its own (new messages each time), then its job to the end."""
        start = datetime(2025, 6, 1) + timedelta(minutes=random.randrange(500_000))
        lines = [
            f"{(start + timedelta(minutes=n)):%d/%m/%Y, %H:%M} - {random.choice(NAMES)}: "
            f"load test note {uuid.uuid4().hex[:12]} about the offsite plans"
            for n in range(20)
        ]
        files = {"files": ("WhatsApp Chat with Load.txt", "\n".join(lines).encode(), "text/plain")}
        with self.client.post(
            f"/api/v1/collections/{self.collection}/uploads",
            files=files,
            headers=self.headers,
            name="upload",
            catch_response=True,
        ) as response:
            if not self._ok(response):
                return
            job = response.json()["jobs"][0]["id"]
        started, deadline = time.perf_counter(), time.monotonic() + 300
        status = "queued"
        while status not in ("succeeded", "failed") and time.monotonic() < deadline:
            time.sleep(1)
            with self.client.get(
                f"/api/v1/jobs/{job}", headers=self.headers, name="job", catch_response=True
            ) as response:
                if self._ok(response):
                    status = response.json()["status"]
        error = None if status == "succeeded" else RuntimeError(f"upload job {status}")
        events.request.fire(
            request_type="JOB",
            name="upload to indexed",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=error,
            context={},
        )
