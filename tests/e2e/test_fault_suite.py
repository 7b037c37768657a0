"""The fault suite: while uploads, searches and answers run, each service and each Dask process
is SIGKILLed in turn at random moments, and the broker and the database (servers this test
starts on its own ports) are restarted; then a total-queue checker reads what the system holds.

What must hold, whatever died when:
* every upload the gateway accepted (202) is indexed exactly once: each of its messages is in the
  index once; an upload whose answer was lost (a connection reset, a 5xx) is indexed at most once,
  and resending it adds nothing twice (ids are derived from content);
* no job stays stuck: every accepted job ends ``succeeded``;
* no answer is recorded twice: the answers table holds at least the answers clients got and at
  most those plus the asks whose outcome was lost;
* every client gets an answer or a retryable refusal: 2xx, or 502/503/504 (nginx's or the
  gateway's, in the JSON error shape), or a connection error while nginx itself has no gateway;
  never a 500 or an unexpected 4xx;
* nothing stays degraded: once the faults stop, a search and an answer succeed again.

The stack runs the distributed layout (a Dask scheduler and embed/llm workers that the model
services join), so the scheduler and the workers are killed too.

The figures (faults injected, operations, lost, duplicated) are printed for the README.
"""

from __future__ import annotations

import random
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
import requests
import sqlalchemy as sa

from chatlens.cli.client import Client
from chatlens.cli.stack import Stack, StackConfig, nginx_binary
from chatlens.shared.testing import unavailable

from .conftest import BASE_PORT, ROOT
from .servers import mariadb_server, rabbitmq_server
from .test_upload_to_search import index_records

pytestmark = pytest.mark.e2e
SEED = 20261207
CHAOS_S = 150  # the workload runs this long while faults are injected
SERVICES = (
    "gateway",
    "auth",
    "embedding-worker",
    "index",
    "inference",
    "dask-scheduler",
    "dask-embed-worker",
    "dask-llm-worker",
)
RETRYABLE = {502, 503, 504}
PASSWORD = "fault suite password long enough"


@dataclass
class Ledger:
    """What clients saw: the history the checker compares the system's state with."""

    outcomes: Counter = field(default_factory=Counter)  # (operation, outcome)
    accepted: dict[str, list[str]] = field(default_factory=dict)  # token -> job ids
    unknown: set[str] = field(default_factory=set)  # uploads whose answer was lost
    answers_ok: int = 0
    answers_unknown: int = 0
    bad: list[str] = field(default_factory=list)  # answers that break the rules
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(
        self, operation: str, response: requests.Response | None, error: Exception | None = None
    ) -> str:
        """Sort one client answer: ok, retryable, or bad (kept with its text)."""
        if error is not None:
            outcome = "connection error"
        elif response.status_code < 400:
            outcome = "ok"
        elif response.status_code in RETRYABLE and _error_shape(response):
            outcome = f"retryable {response.status_code}"
        elif response.status_code == 429:
            outcome = "rate limited"
        else:
            outcome = f"bad {response.status_code}"
        with self.lock:
            self.outcomes[(operation, outcome)] += 1
            if outcome.startswith("bad"):
                self.bad.append(f"{operation}: {response.status_code} {response.text[:200]}")
        return outcome


def _error_shape(response: requests.Response) -> bool:
    try:
        error = response.json()["error"]
        return bool(error["code"]) and bool(error["message"])
    except (ValueError, KeyError, TypeError):
        return False


def export(token: str, messages: int = 12) -> bytes:
    """A small WhatsApp export whose every message carries ``token`` (and its number)."""
    start = datetime(2025, 5, 1) + timedelta(minutes=random.Random(token).randrange(400_000))
    return "\n".join(
        f"{start + timedelta(minutes=n):%d/%m/%Y, %H:%M} - Ana: fault note {token} number {n}"
        for n in range(messages)
    ).encode()


class Workload:
    """Uploads, searches and answers from several threads, through nginx, until stopped."""

    def __init__(self, url: str, token: str, collection_id: str, ledger: Ledger) -> None:
        self.url, self.collection, self.ledger = url, collection_id, ledger
        self.headers = {"Authorization": f"Bearer {token}"}
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=target, daemon=True)
            for target in (self.uploads, self.searches, self.searches, self.asks)
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(360)

    def _call(self, operation: str, method: str, path: str, **kwargs):
        try:
            response = requests.request(
                method, f"{self.url}{path}", headers=self.headers, timeout=150, **kwargs
            )
        except requests.RequestException as exc:
            return self.ledger.record(operation, None, exc), None
        return self.ledger.record(operation, response), response

    def uploads(self) -> None:
        while not self.stop.wait(2.5):
            token = f"tok{uuid.uuid4().hex[:12]}"
            body = export(token)
            # Resent until accepted (as a client retrying a lost answer would), at most 5 times.
            for _ in range(5):
                files = {"files": ("WhatsApp Chat with Faults.txt", body, "text/plain")}
                outcome, response = self._call(
                    "upload", "POST", f"/api/v1/collections/{self.collection}/uploads", files=files
                )
                if outcome == "ok":
                    with self.ledger.lock:
                        self.ledger.accepted.setdefault(token, []).extend(
                            job["id"] for job in response.json()["jobs"]
                        )
                    break
                with self.ledger.lock:
                    self.ledger.unknown.add(token)
                time.sleep(2)

    def searches(self) -> None:
        while not self.stop.wait(0.3):
            self._call(
                "search",
                "POST",
                f"/api/v1/collections/{self.collection}/search",
                json={"query": random.choice(["fault note", "number 3", "Ana"]), "k": 5},
            )

    def asks(self) -> None:
        while not self.stop.wait(4):
            outcome, _ = self._call(
                "ask",
                "POST",
                f"/api/v1/collections/{self.collection}/ask",
                json={"question": "What does the fault note say?", "k": 3},
            )
            with self.ledger.lock:
                if outcome == "ok":
                    self.ledger.answers_ok += 1
                elif outcome == "connection error" or outcome.startswith("retryable"):
                    self.ledger.answers_unknown += 1


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    if nginx_binary() is None:
        unavailable("nginx is not installed (make test installs it on Debian)")
    broker_folder = tmp_path_factory.mktemp("rabbitmq")
    database_folder = tmp_path_factory.mktemp("mariadb")
    with rabbitmq_server(broker_folder) as broker, mariadb_server(database_folder) as database:
        database.create("chatlens")
        yield broker, database


def test_faults_lose_nothing_and_duplicate_nothing(servers, tmp_path_factory):
    broker, database = servers
    config = StackConfig(
        root=ROOT,
        state=tmp_path_factory.mktemp("fault-stack"),
        amqp_url=broker.url,
        database_url=database.url("chatlens"),
        base_port=BASE_PORT + 200,
        nginx_port=BASE_PORT + 180,
        dask=True,
        restart_backoff_s=0.5,
        max_crashes=10,
    )
    stack = Stack(config)
    try:
        stack.up(wait_s=600)
        run_suite(stack, broker, database)
    except BaseException:
        for name in config.service_processes:  # what the services said, for the failure
            errors = [
                line
                for line in stack.tail(name, 4000).splitlines()
                if '"ERROR"' in line or "Traceback" in line
            ]
            print(
                f"==> {name}: {len(errors)} error lines, the last ones <==",
                *errors[-5:],
                sep="\n",
                file=sys.stderr,
            )
        raise
    finally:
        stack.down()


def run_suite(stack: Stack, broker, database) -> None:
    url = stack.config.nginx_url
    owner = Client(url, timeout=120)
    owner.register("faults@example.com", PASSWORD, "Faults")
    owner.login("faults@example.com", PASSWORD)
    collection = owner.create_collection("faults")
    ledger = Ledger()
    workload = Workload(url, owner.token, collection["id"], ledger)

    rng = random.Random(SEED)
    faults = [
        *(("kill", name) for name in SERVICES),
        ("restart", "rabbitmq"),
        ("restart", "mariadb"),
    ]
    rng.shuffle(faults)
    injected: list[str] = []
    workload.start()
    started = time.monotonic()
    for kind, target in faults:
        time.sleep(rng.uniform(0.4, 1.0) * CHAOS_S / len(faults))
        injected.append(f"{time.monotonic() - started:5.1f}s {kind} {target}")
        print(injected[-1], flush=True)
        if target == "rabbitmq":
            broker.restart()
        elif target == "mariadb":
            database.restart()
        else:
            stack.crash(target, signal.SIGKILL)
    time.sleep(max(0.0, CHAOS_S - (time.monotonic() - started)))
    workload.join()
    # The supervisor has restarted what was killed; the rest is settling down.
    stack.wait_ready(300)
    recovered(url, owner.token, collection["id"])
    owner.login("faults@example.com", PASSWORD)  # auth answers again too
    check(stack, owner, collection["id"], ledger, database, injected)


def recovered(url: str, token: str, collection_id: str, timeout: float = 300) -> None:
    """Once the faults stop, the system answers again: a search and an answer each succeed
    (within ``timeout``, retrying what is refused as retryable): no service stays degraded."""
    headers = {"Authorization": f"Bearer {token}"}
    for path, body in (
        ("search", {"query": "fault note", "k": 3}),
        ("ask", {"question": "What does the fault note say?", "k": 3}),
    ):
        deadline, last = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            try:
                last = requests.post(
                    f"{url}/api/v1/collections/{collection_id}/{path}",
                    json=body,
                    headers=headers,
                    timeout=150,
                )
                if last.status_code < 300:
                    break
                assert last.status_code in RETRYABLE, last.text
            except requests.RequestException as exc:
                last = exc
            time.sleep(3)
        else:
            raise AssertionError(
                f"{path} did not recover after the faults: {last!r} "
                f"{getattr(last, 'text', '')[:300]}"
            )


def check(
    stack: Stack, owner: Client, collection_id: str, ledger: Ledger, database, injected: list[str]
) -> None:
    jobs = {job_id for ids in ledger.accepted.values() for job_id in ids}
    deadline = time.monotonic() + 420
    finished: dict[str, dict] = {}
    while len(finished) < len(jobs) and time.monotonic() < deadline:
        for job_id in jobs - set(finished):
            job = owner.job(job_id)
            if job["status"] in ("succeeded", "failed"):
                finished[job_id] = job
        time.sleep(1)
    stuck = sorted(jobs - set(finished))
    failed = [job for job in finished.values() if job["status"] != "succeeded"]

    org_id = owner.me()["org"]["id"]
    records = index_records(stack, org_id, collection_id) if finished else []
    ids = Counter(record["message_id"] for record in records)
    by_token = Counter(
        record["text"].split()[2] for record in records if record["text"].startswith("fault note ")
    )
    lost = sorted(token for token in ledger.accepted if by_token[token] == 0)
    duplicated = sorted(token for token, count in by_token.items() if count > 12)
    partial = sorted(token for token in ledger.accepted if 0 < by_token[token] < 12)
    stray = sorted(
        token for token in by_token if token not in ledger.accepted and token not in ledger.unknown
    )
    engine = sa.create_engine(database.url("chatlens"))
    with engine.connect() as connection:
        answers = connection.execute(
            sa.text("SELECT COUNT(*) FROM answers WHERE collection_id = :c"), {"c": collection_id}
        ).scalar_one()
    engine.dispose()

    operations = sum(ledger.outcomes.values())
    twice = len(duplicated) + sum(count > 1 for count in ids.values())
    print(
        f"\nfault suite: {len(injected)} faults injected ({'; '.join(injected)}); "
        f"{operations} operations; {len(ledger.accepted)} uploads accepted "
        f"({len(ledger.unknown)} resent after a lost answer), {len(records)} messages "
        f"indexed; lost {len(lost)}, duplicated {twice}, "
        f"stuck {len(stuck)}; answers recorded {answers} (clients got {ledger.answers_ok}, "
        f"{ledger.answers_unknown} lost)"
    )
    for (operation, outcome), count in sorted(ledger.outcomes.items()):
        print(f"  {operation:<8}{outcome:<20}{count:>6}")
    assert not ledger.bad, ledger.bad[:10]
    assert not stuck, f"jobs never finished: {stuck}"
    assert not failed, failed[:3]
    assert not lost and not partial, (lost, partial)
    assert not duplicated and max(ids.values(), default=1) == 1
    assert not stray, stray
    assert ledger.answers_ok <= answers <= ledger.answers_ok + ledger.answers_unknown
    assert len(injected) == len(SERVICES) + 2
