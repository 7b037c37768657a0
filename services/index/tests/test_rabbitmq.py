"""The index against a real RabbitMQ, in a throw-away vhost: ingest, announce, search by RPC."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

import numpy as np
import pytest

from chatlens.index.config import IndexSettings
from chatlens.index.service import build
from chatlens.index.storage.collection import Collection
from chatlens.index.storage.layout import Layout
from chatlens.shared import topology
from chatlens.shared.bus import Bus, RpcError
from chatlens.shared.schemas import IndexUpdated, JobProgressed, SearchRequested

DIM = 384


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@contextmanager
def index_on(amqp_url, tmp_path):
    """The real index service on the vhost, and a stand-in gateway collecting its events."""
    settings = IndexSettings(amqp_url=amqp_url, data_dir=tmp_path, health_port=0)
    bus = Bus(amqp_url, "index-test")
    bus.declare()
    service = build(settings, bus).start()
    events: queue.Queue = queue.Queue()
    gateway = bus.consumer(
        topology.GATEWAY_JOBS_QUEUE.name, lambda message, delivery: events.put(message)
    ).start()
    try:
        wait_for(lambda: service.ready() and gateway.ready, what="consumers")
        yield bus, events, settings
    finally:
        gateway.stop()
        service.stop()
        bus.close()


@pytest.fixture
def running(amqp_url, tmp_path):
    with index_on(amqp_url, tmp_path) as running:
        yield running


def next_index_updated(events: queue.Queue, timeout: float = 30.0) -> IndexUpdated:
    deadline = time.monotonic() + timeout
    while True:
        message = events.get(timeout=max(0.1, deadline - time.monotonic()))
        if isinstance(message, IndexUpdated):
            return message
        assert isinstance(message, JobProgressed)


def test_a_job_is_indexed_announced_and_searchable(running, make_job):
    bus, events, settings = running
    job = make_job("job-1", [f"m{i}" for i in range(30)], dim=DIM, batch_size=8)
    for message in job.all_messages():
        bus.publish(message)

    updated = next_index_updated(events)
    assert (updated.job_id, updated.collection_id, updated.version) == ("job-1", "coll1", 1)
    assert updated.stats["added"] == 30 and updated.stats["embedded"] == 30

    target = job.vectors["m17"] + np.float32(0.01)
    answer = bus.rpc().call(
        SearchRequested(
            org_id="org1", collection_id="coll1", vector=target.tolist(), k=5, context=1
        )
    )
    assert answer.version == 1
    assert answer.hits[0].message.message_id == "m17"
    assert [m.message_id for m in answer.hits[0].context] == ["m16", "m18"]

    with pytest.raises(RpcError) as refused:
        bus.rpc().call(
            SearchRequested(org_id="other-org", collection_id="coll1", vector=target.tolist())
        )
    assert refused.value.code == "not_found"


def test_a_job_published_twice_makes_one_version(running, make_job):
    bus, events, settings = running
    job = make_job("job-2", [f"m{i}" for i in range(12)], dim=DIM, batch_size=5)
    for message in job.all_messages():
        bus.publish(message)
    first = next_index_updated(events)
    for message in job.all_messages():
        bus.publish(message)
    second = next_index_updated(events)

    assert first.version == second.version == 1
    assert second.stats == first.stats
    collection = Collection(Layout(settings.index_dir).collection("org1", "coll1"))
    manifest = collection.manifest()
    assert manifest.version == 1 and [s.messages for s in manifest.segments] == [12]
    answer = bus.rpc().call(
        SearchRequested(
            org_id="org1", collection_id="coll1", vector=job.vectors["m3"].tolist(), k=20
        )
    )
    ids = [hit.message.message_id for hit in answer.hits]
    assert sorted(ids) == sorted(job.vectors) and len(ids) == len(set(ids))


def test_keyword_search_and_versions_are_answered_over_rpc(running, make_text_job):
    from chatlens.shared.schemas import (
        VersionRestoreRequested,
        VersionsCompareRequested,
        VersionsListRequested,
    )

    bus, events, settings = running
    for n, texts in enumerate((["the invoice from Sam", "lunch?"], ["Lisbon offsite booked"])):
        job = make_text_job(f"kw{n}", texts, seed=n, first_seq=10 * n, dim=DIM)
        for message in job.all_messages():
            bus.publish(message)
        assert next_index_updated(events).version == n + 1
    where = {"org_id": "org1", "collection_id": "coll1"}
    answer = bus.rpc().call(SearchRequested(**where, mode="keyword", query="invoi*"))
    assert [h.message.message_id for h in answer.hits] == ["kw0-0"]
    listed = bus.rpc().call(VersionsListRequested(**where))
    assert [(v.version, v.messages) for v in listed.versions] == [(0, 0), (1, 2), (2, 3)]
    compared = bus.rpc().call(VersionsCompareRequested(**where, base=2, other=1))
    assert (compared.added, compared.removed) == (0, 1)
    restored = bus.rpc().call(VersionRestoreRequested(**where, version=1))
    assert restored.version == 3
    answer = bus.rpc().call(SearchRequested(**where, mode="keyword", query="lisbon"))
    assert answer.version == 3 and answer.hits == []
    with pytest.raises(RpcError) as refused:
        bus.rpc().call(VersionRestoreRequested(org_id="org2", collection_id="coll1", version=1))
    assert refused.value.code == "not_found"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def test_python_m_chatlens_index_runs_and_stops_on_sigterm(amqp_url, tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "AMQP_URL": amqp_url,
        "DATA_DIR": str(tmp_path),
        "HEALTH_PORT": str(port),
        "HOST": "127.0.0.1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "chatlens.index"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(
            lambda: _status(f"http://127.0.0.1:{port}/readyz") == 200, timeout=30, what="/readyz"
        )
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=40) == 0
    finally:
        if process.poll() is None:
            process.kill()
    log = process.stdout.read().decode()
    assert '"index service stopped"' in log


def test_a_search_is_not_queued_behind_slow_dashboards(amqp_url, tmp_path, monkeypatch, make_job):
    """Searches and analytics share the RPC queue: with the default workers, four reports that
    each take 1.5 s (DuckDB under load) leave a worker free, and a search is answered at once."""
    from concurrent.futures import ThreadPoolExecutor

    from chatlens.index.analytics.service import Analytics
    from chatlens.shared.schemas import AnalyticsRequested

    def slow_report(self, request):
        time.sleep(1.5)
        raise RpcError("not_found", "a slow report")

    monkeypatch.setattr(Analytics, "answer", slow_report)  # before the service binds it
    with index_on(amqp_url, tmp_path) as (bus, events, _settings):
        job = make_job("job-q", [f"m{i}" for i in range(10)], dim=DIM, batch_size=5)
        for message in job.all_messages():
            bus.publish(message)
        next_index_updated(events)
        where = {"org_id": "org1", "collection_id": "coll1"}
        with ThreadPoolExecutor(4) as pool:
            reports = [
                pool.submit(
                    lambda: pytest.raises(
                        RpcError, bus.rpc().call, AnalyticsRequested(**where, report="overview")
                    )
                )
                for _ in range(4)
            ]
            time.sleep(0.3)  # the reports are being worked on
            started = time.monotonic()
            answer = bus.rpc().call(SearchRequested(**where, vector=job.vectors["m3"].tolist()))
            waited = time.monotonic() - started
            for report in reports:
                report.result()
    assert answer.hits[0].message.message_id == "m3"
    assert waited < 1.0, f"the search waited {waited:.2f} s behind the reports"
