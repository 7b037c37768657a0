"""Topics on generated messages with planted topics: the job must find them, name them by their
planted words, keep short messages out, and cache what it computed (and nothing when it fails);
on workers that are separate processes, the same result as in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import numpy as np
import pytest
from conftest import DIM, T0, JobBuilder, make_message
from pydantic import ValidationError

from chatlens.index.analytics.topics_cache import TopicsCache
from chatlens.index.analytics.topics_job import TopicsJobs
from chatlens.index.analytics.topics_job import dask_client as dask_client_of
from chatlens.index.manifests import ManifestReader
from chatlens.index.storage.segment import SegmentCache
from chatlens.shared import compute as dask_compute
from chatlens.shared.bus import PermanentError
from chatlens.shared.handling import Delivery
from chatlens.shared.schemas import (
    JobFailed,
    TopicsComputed,
    TopicsLookup,
    TopicsParams,
    TopicsProgressed,
    TopicsRequested,
)

# Each planted topic: words only its messages use, mixed with words every topic uses.
PLANTED = {
    "cooking": ["pasta", "oven", "garlic", "recipe"],
    "football": ["goal", "striker", "referee", "stadium"],
    "deploys": ["kubernetes", "rollback", "pipeline", "cluster"],
    "holidays": ["beach", "flight", "hotel", "passport"],
    "books": ["poetry", "chapter", "author", "library"],
}
SHARED = ["today", "really", "think", "maybe", "people", "thing"]
PER_TOPIC = 60
SHORT = 25  # one- and two-word messages: noise


def planted_history(seed: int = 3):
    """(messages, vectors by id, planted topic by id): vectors are the topic's centre plus noise."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(PLANTED), DIM))
    messages, vectors, truth = [], {}, {}
    seq = 0
    for topic, (name, words) in enumerate(PLANTED.items()):
        for _ in range(PER_TOPIC):
            text = " ".join([*rng.choice(words, 2, replace=False), *rng.choice(SHARED, 3)])
            message = make_message(f"m{seq}", seq, text=text).model_copy(
                update={"sent_at": T0 + timedelta(days=seq % 90)}
            )
            vector = centres[topic] + 0.3 * rng.standard_normal(DIM)
            messages.append(message)
            vectors[message.message_id] = (vector / np.linalg.norm(vector)).astype(np.float32)
            truth[message.message_id] = name
            seq += 1
    for _ in range(SHORT):
        message = make_message(f"m{seq}", seq, text=str(rng.choice(["ok", "yes sure", "lol"])))
        vector = rng.standard_normal(DIM)
        messages.append(message)
        vectors[message.message_id] = (vector / np.linalg.norm(vector)).astype(np.float32)
        seq += 1
    order = rng.permutation(len(messages))
    return [messages[i] for i in order], vectors, truth


@pytest.fixture(scope="module")
def dask_client():
    client = dask_compute.connect(None, name="test-topics", resources={}, threads=2)
    yield client
    client.close()


@pytest.fixture
def planted(run_messages):
    messages, vectors, truth = planted_history()
    run_messages(JobBuilder("j1", messages, vectors, batch_size=100).all_messages())
    return truth


class Recorder(list):
    def of(self, cls) -> list:
        return [m for m in self if isinstance(m, cls)]


def make_jobs(layout, dask_client, publish=None, client=None) -> tuple[TopicsJobs, Recorder]:
    sent = Recorder()
    jobs = TopicsJobs(
        ManifestReader(layout),
        SegmentCache(8),
        TopicsCache(layout.root / "cache" / "topics"),
        publish or sent.append,
        client or (lambda: dask_client),
    )
    return jobs, sent


def request(job_id: str = "t1", **params) -> TopicsRequested:
    return TopicsRequested(
        job_id=job_id,
        org_id="org1",
        collection_id="coll1",
        version=1,
        params=TopicsParams(**{"k_min": 2, "k_max": 8, "map_points": 200, **params}),
    )


def delivery(last: bool = False) -> Delivery:
    return Delivery(
        queue="index.jobs", redelivered=False, delivery_count=1, correlation_id=None, last=last
    )


def lookup(jobs: TopicsJobs, **params):
    return jobs.lookup(
        TopicsLookup(
            org_id="org1",
            collection_id="coll1",
            version=1,
            params=TopicsParams(**{"k_min": 2, "k_max": 8, "map_points": 200, **params}),
        )
    )


def test_the_planted_topics_are_found_and_named_by_their_words(layout, planted, dask_client):
    jobs, sent = make_jobs(layout, dask_client)
    jobs.run(request(), delivery())
    [done] = sent.of(TopicsComputed)
    assert done.job_id == "t1" and done.version == 1
    result = lookup(jobs).result
    assert result["k"] == len(PLANTED) and result["chosen_by"] == "silhouette"
    assert result["silhouette"] > 0.5
    assert result["clustered"] == len(PLANTED) * PER_TOPIC and result["noise"] == SHORT
    assert result["messages"] == len(PLANTED) * PER_TOPIC + SHORT
    found_names = set()
    for topic in result["topics"]:
        assert topic["size"] == PER_TOPIC and topic["share"] == pytest.approx(1 / len(PLANTED))
        [name] = {planted[r["message_id"]] for r in topic["representatives"]}
        assert len(topic["representatives"]) == 3
        # Its label is made of the planted words of that topic, none of the shared ones.
        assert set(topic["label"].split(" · ")) <= set(PLANTED[name])
        assert {t["term"] for t in topic["terms"][:4]} == set(PLANTED[name])
        found_names.add(name)
    assert found_names == set(PLANTED)
    # The map: a point per sampled message, each with the topic of its message.
    points = result["map"]["points"]
    assert len(points) == 200
    topic_of_name = {
        planted[t["representatives"][0]["message_id"]]: t["topic"] for t in result["topics"]
    }
    assert all(p["topic"] == topic_of_name[planted[p["message_id"]]] for p in points)
    # Over time: every clustered message in one (month, topic) cell.
    assert sum(cell["messages"] for cell in result["over_time"]) == result["clustered"]
    assert {cell["bucket"] for cell in result["over_time"]} == {"2024-01", "2024-02", "2024-03"}
    stages = [p.stage for p in sent.of(TopicsProgressed)]
    assert stages[0] == "reading" and stages[-1] == "mapping" and "labelling" in stages


def test_a_fixed_k_is_used_and_weekly_buckets_are_iso_weeks(layout, planted, dask_client):
    jobs, _ = make_jobs(layout, dask_client)
    jobs.run(request(k=3, bucket="week", map_points=0), delivery())
    result = lookup(jobs, k=3, bucket="week", map_points=0).result
    assert result["k"] == 3 and result["chosen_by"] == "fixed"
    assert [s["k"] for s in result["scores"]] == [3]
    assert result["map"]["points"] == []
    assert result["over_time"][0]["bucket"] == "2024-W01"


def test_a_second_request_is_answered_from_the_cache_and_results_are_reproducible(
    layout, planted, dask_client, tmp_path
):
    jobs, _ = make_jobs(layout, dask_client)
    jobs.run(request(), delivery())
    first = lookup(jobs).result

    def no_cluster():
        raise AssertionError("a cached result must not be computed again")

    cached, sent = make_jobs(layout, dask_client, client=no_cluster)
    cached.run(request("t2"), delivery())
    assert [m.job_id for m in sent.of(TopicsComputed)] == ["t2"]
    assert not sent.of(TopicsProgressed)
    # Computed afresh into another cache: the same topics (fixed seed).
    again = TopicsJobs(
        ManifestReader(layout),
        SegmentCache(8),
        TopicsCache(tmp_path / "other"),
        lambda message: None,
        lambda: dask_client,
    )
    again.run(request("t3"), delivery())
    assert lookup(again).result == first
    # Other parameters are another entry, not computed yet.
    assert lookup(jobs, min_words=4).result is None


def test_a_job_that_fails_leaves_no_cache_and_fails_its_job_on_the_last_delivery(
    layout, planted, dask_client
):
    def publish(message):
        if isinstance(message, TopicsProgressed) and message.stage == "mapping":
            raise ConnectionError("broker gone")
        sent.append(message)

    sent = Recorder()
    jobs, _ = make_jobs(layout, dask_client, publish=publish)
    with pytest.raises(ConnectionError):
        jobs.run(request(), delivery())
    assert not sent.of(JobFailed)  # retried: the job goes on
    with pytest.raises(ConnectionError):
        jobs.run(request(), delivery(last=True))
    [failed] = sent.of(JobFailed)
    assert failed.code == "topics_failed"
    assert lookup(jobs).result is None
    assert not list((layout.root / "cache").rglob("*.json"))
    assert not list((layout.root / "cache").rglob(".*tmp*"))


def test_too_few_messages_fail_the_job_with_a_code(layout, planted, dask_client):
    jobs, sent = make_jobs(layout, dask_client)
    jobs.run(request(min_words=6), delivery())  # planted messages have 5 words
    [failed] = sent.of(JobFailed)
    assert failed.code == "too_few_messages" and not sent.of(TopicsComputed)
    assert lookup(jobs, min_words=6).result is None


def test_an_unknown_version_is_refused(layout, planted, dask_client):
    jobs, _ = make_jobs(layout, dask_client)
    with pytest.raises(PermanentError) as refused:
        jobs.lookup(TopicsLookup(org_id="org1", collection_id="coll1", version=9))
    assert refused.value.code == "version_not_found"
    with pytest.raises(PermanentError) as refused:
        jobs.lookup(TopicsLookup(org_id="org2", collection_id="coll1"))
    assert refused.value.code == "not_found"


@pytest.mark.parametrize(
    "params",
    [{"k": 30}, {"k": 1}, {"k_min": 9, "k_max": 4}, {"map_points": 20_001}, {"k": 3, "k_min": 4}],
)
def test_parameters_out_of_range_are_refused(params):
    with pytest.raises(ValidationError):
        TopicsParams(**params)


def test_short_messages_count_as_noise_not_as_a_topic(layout, planted, dask_client):
    jobs, _ = make_jobs(layout, dask_client)
    jobs.run(request(), delivery())
    result = lookup(jobs).result
    listed = Counter(r["message_id"] for t in result["topics"] for r in t["representatives"])
    assert all(message_id in planted for message_id in listed)


@pytest.fixture
def separate_workers(tmp_path):
    """A Dask scheduler and two one-thread workers, each its own process, started as the stack
    starts them (``python -m distributed.cli.dask_scheduler`` / ``dask_worker``); the address."""
    found = tmp_path / "scheduler.json"
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1"]
            + ["--port", "0", "--no-dashboard", "--scheduler-file", str(found)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not found.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(found.read_text())["address"]
        for _ in range(2):
            started.append(
                subprocess.Popen(
                    [sys.executable, "-m", "distributed.cli.dask_worker", address]
                    + ["--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        yield address
    finally:
        for process in reversed(started):
            process.terminate()
        for process in started:
            process.wait(timeout=30)


def test_workers_in_other_processes_find_the_same_topics_as_the_in_process_cluster(
    layout, planted, dask_client, separate_workers, tmp_path
):
    """The index joining a scheduler (``DASK_SCHEDULER_ADDRESS``), its topics module sent by
    value to workers that are separate processes: the result of the in-process cluster, to the
    last digit (fixed seed)."""
    jobs, _ = make_jobs(layout, dask_client)
    jobs.run(request(), delivery())
    connect = dask_client_of(separate_workers, threads=1)
    connect().wait_for_workers(2, timeout=60)
    try:
        sent = Recorder()
        far = TopicsJobs(
            ManifestReader(layout),
            SegmentCache(8),
            TopicsCache(tmp_path / "separate"),
            sent.append,
            connect,
        )
        far.run(request("t2"), delivery())
        assert [m.job_id for m in sent.of(TopicsComputed)] == ["t2"]
        workers = connect().run(os.getpid)
        assert len(workers) == 2 and os.getpid() not in workers.values()
        first = lookup(jobs).result
        assert first["k"] == len(PLANTED) and lookup(far).result == first
    finally:
        connect().close()
