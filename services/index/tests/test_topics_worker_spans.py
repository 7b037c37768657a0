"""Traces on the Dask workers for topics (issue 14): the index submits each silhouette, the map and
the final KMeans in a CLIENT span with its :func:`~chatlens.shared.tracing.carrier`, and a worker
started with the preload every deployment gives it (``--preload chatlens.shared.dask_preload``)
runs each task in a SERVER span of its own (``topics.silhouette``, ``topics.map_2d``,
``topics.fit``) in that trace, exported to its ``OTEL_EXPORTER_OTLP_ENDPOINT``. The worker is a
separate process (``LocalCluster(processes=True)``), the collector an OTLP gRPC receiver the
test runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
from distributed import Client, LocalCluster

from chatlens.index.analytics import topics_job
from chatlens.shared import dask_preload, logs, tracing
from chatlens.shared.schemas import TopicsParams
from chatlens.shared.testing import memory_spans, otlp_receiver

ROWS = 300
MAP_POINTS = 60


def three_blobs() -> topics_job.Gathered:
    """``ROWS`` unit vectors around three directions, with words that name them."""
    rng = np.random.default_rng(7)
    blob = np.arange(ROWS) % 3
    centres = rng.normal(size=(3, 16))
    vectors = (centres[blob] + 0.1 * rng.normal(size=(ROWS, 16))).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    words = ["coffee beans grinder", "hiking trail summit", "invoice payment due"]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return topics_job.Gathered(
        ids=[f"m{row}" for row in range(ROWS)],
        texts=[words[b] for b in blob],
        senders=["ana"] * ROWS,
        sent_at=pa.array(
            [start + timedelta(hours=row) for row in range(ROWS)], pa.timestamp("us", tz="UTC")
        ),
        vectors=vectors,
        messages=ROWS,
        noise=0,
    )


def test_each_topics_task_runs_in_a_worker_span_continuing_its_submit_span():
    spans = memory_spans()
    params = TopicsParams(k_min=2, k_max=3, map_points=MAP_POINTS)
    with otlp_receiver() as collector:
        # The batch processor's delay, 5 s by default, cut so that the spans come quickly.
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
        with (
            LocalCluster(
                n_workers=1,
                processes=True,
                threads_per_worker=2,
                preload=[dask_preload.__name__],
                env=env,
                dashboard_address=None,
            ) as cluster,
            Client(cluster) as client,
        ):
            with logs.correlation("corr-topics-1"), tracing.span("topics.requested process"):
                result = topics_job.compute(three_blobs(), params, "UTC", client, lambda *_: None)
            for name in ("topics.silhouette", "topics.map_2d", "topics.fit"):
                collector.wait_for(name, timeout=30)
            received = collector.all()
    assert result["k"] == 3 and len(result["map"]["points"]) == MAP_POINTS

    submits = {s.name: s for s in spans.get_finished_spans() if s.name.startswith("dask submit")}
    assert set(submits) == {
        "dask submit topics.silhouette",
        "dask submit topics.map_2d",
        "dask submit topics.fit",
    }
    silhouettes = sorted(
        (s for s in received if s.name == "topics.silhouette"),
        key=lambda s: s.attributes["chatlens.k"],
    )
    (mapped,) = [s for s in received if s.name == "topics.map_2d"]
    (fitted,) = [s for s in received if s.name == "topics.fit"]
    expected = [
        (silhouettes[0], "dask submit topics.silhouette", {"chatlens.k": 2, "chatlens.rows": ROWS}),
        (silhouettes[1], "dask submit topics.silhouette", {"chatlens.k": 3, "chatlens.rows": ROWS}),
        (mapped, "dask submit topics.map_2d", {"chatlens.rows": MAP_POINTS}),
        (fitted, "dask submit topics.fit", {"chatlens.k": 3, "chatlens.rows": ROWS}),
    ]
    assert len(silhouettes) == 2
    for task, parent, attributes in expected:
        submit = submits[parent]
        assert (task.service, task.kind, task.status) == ("dask-worker", "SERVER", "UNSET")
        assert task.trace_id == submit.context.trace_id
        assert task.parent_span_id == submit.context.span_id
        assert task.attributes["chatlens.correlation_id"] == "corr-topics-1"
        assert {key: task.attributes.get(key) for key in attributes} == attributes
        assert submit.kind.name == "CLIENT"
        assert submit.attributes["chatlens.correlation_id"] == "corr-topics-1"
