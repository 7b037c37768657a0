"""The load scenario of ``bench/load_bench.py`` (which starts the stack, prepares the accounts and
runs this file with locust): each simulated user signs in to the shared org, then searches,
opens dashboards, asks (streamed), lists collections and now and then uploads a small export.

Configured through the environment by the orchestrator: ``CHATLENS_LOAD_SETUP`` (JSON: the
accounts, each with its own loopback address, the org, the collection, the queries and
questions). Each user plays one account and connects from that account's address
(``bench/loopback.py``), so the stack's per-address limits apply as they would to people on
their own machines. A rate-limit refusal (429) is recorded as a failure named
``429 rate limited``, so the report can tell deliberate refusals from errors. The searches'
``Server-Timing`` parts (the stack runs with ``SERVER_TIMING``) are written, as percentiles, to
``CHATLENS_LOAD_TIMINGS`` when the run stops.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from locust import HttpUser, between, events, task
from urllib3 import PoolManager

SETUP = json.loads(os.environ.get("CHATLENS_LOAD_SETUP", "{}"))
_accounts = itertools.cycle(SETUP.get("accounts", [{}]))
NAMES = ("Marta", "Jonas", "Priya", "Tom", "Inês")
# Server-Timing of each answered search: part name -> durations (ms), "client" the whole request.
_timings: dict[str, list[float]] = defaultdict(list)


class ChatlensUser(HttpUser):
    """One person using the web app's API: think time of 1-3 s between actions."""

    wait_time = between(1, 3)

    def __init__(self, *args, **kwargs) -> None:
        self.account = next(_accounts)
        # Connections from the account's own address (HttpUser hands this to its session).
        if "address" in self.account:
            self.pool_manager = PoolManager(source_address=(self.account["address"], 0))
        super().__init__(*args, **kwargs)

    def on_start(self) -> None:
        self.collection = SETUP["collection_id"]
        self.token = self.refresh_token = ""
        self.refresh_at = float("inf")
        self.sign_in_after = 0.0  # monotonic time before which a failed sign-in is not retried
        self.failed_sign_ins = 0
        self.sign_in()

    def signed_in(self) -> bool:
        """Whether the user holds a token; without one, sign in again, but not before the wait
        a failed sign-in set (a person whose sign-in failed does not hammer the API meanwhile,
        nor retry the password at once)."""
        if self.token and time.monotonic() >= self.refresh_at:
            self.refresh()
        if not self.token and time.monotonic() >= self.sign_in_after:
            self.sign_in()
        return bool(self.token)

    def sign_in(self) -> None:
        """Sign in; after a failure the next try waits 2, 4, 8 ... up to 60 s, jittered (a
        hundred clients retrying on a fixed beat would keep an overloaded auth overloaded),
        and at least the Retry-After of a refusal."""
        self.token = ""
        self.failed_sign_ins += 1
        backoff = min(60.0, 2.0**self.failed_sign_ins)
        self.sign_in_after = time.monotonic() + random.uniform(backoff / 2, backoff)
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
                self._keep(response.json())
                self.failed_sign_ins = 0

    def _keep(self, pair: dict) -> None:
        """Hold a token pair; like the web app, refresh it before the access token expires
        (``expires_in``, 900 s by default) rather than sign in again with the password."""
        self.token, self.refresh_token = pair["access_token"], pair["refresh_token"]
        self.refresh_at = time.monotonic() + max(30.0, float(pair.get("expires_in", 900)) - 60)

    def refresh(self) -> None:
        with self.client.post(
            "/api/v1/auth/refresh",
            name="refresh",
            catch_response=True,
            json={"refresh_token": self.refresh_token},
        ) as response:
            if self._ok(response):
                self._keep(response.json())
            else:
                self.token = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def _ok(self, response) -> bool:
        """Sort the answer: 429 and a shed 503 (generation_busy, auth's busy) are deliberate
        refusals, an expired token is dropped (the next task signs in again)."""
        if response.status_code == 429:
            response.failure("429 rate limited")
            return False
        if response.status_code == 503 and b"generation_busy" in response.content[:200]:
            response.failure("503 busy: every generation slot taken (Retry-After)")
            return False
        if response.status_code == 503 and b'"code":"busy"' in response.content[:200]:
            response.failure("503 busy: every password-hashing slot taken (Retry-After)")
            retry_after = time.monotonic() + float(response.headers.get("Retry-After", 1))
            self.sign_in_after = max(self.sign_in_after, retry_after)
            return False
        if response.status_code == 401:
            response.failure("401 signed out")
            self.token = ""
            return False
        if response.status_code >= 400:
            response.failure(f"{response.status_code} {response.text[:120]}")
            return False
        response.success()
        return True

    @task(10)
    def search(self) -> None:
        if not self.signed_in():
            return
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
            if self._ok(response):
                _record_timing(response)

    @task(3)
    def dashboard(self) -> None:
        if not self.signed_in():
            return
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
        if not self.signed_in():
            return
        with self.client.get(
            "/api/v1/collections", headers=self.headers, name="collections", catch_response=True
        ) as response:
            self._ok(response)

    @task(1)
    def ask(self) -> None:
        """A streamed answer: the request's time is its first byte; the whole stream is
        reported as ``ask (whole stream)``."""
        if not self.signed_in():
            return
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
        if not self.signed_in():
            return
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
            if not self.signed_in():
                break
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


def _record_timing(response) -> None:
    """Keep the parts of a search's ``Server-Timing`` (``name;dur=ms, ...``) and its whole time."""
    _timings["client"].append(response.elapsed.total_seconds() * 1000)
    for part in response.headers.get("Server-Timing", "").split(","):
        name, _, duration = part.strip().partition(";dur=")
        if name and duration:
            _timings[name].append(float(duration))


@events.test_stop.add_listener
def _write_timings(**_kwargs) -> None:
    path = os.environ.get("CHATLENS_LOAD_TIMINGS")
    if not path:
        return
    out = {}
    for name, values in _timings.items():
        ordered = sorted(values)

        def at(q: float, ordered: list[float] = ordered) -> float:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

        out[name] = {"n": len(ordered), "p50": at(0.5), "p95": at(0.95), "p99": at(0.99)}
    with open(path, "w") as handle:
        json.dump(out, handle, indent=2)
