"""Right after start-up a query is answered like any other (issue 16: a search bench died on
"embedding.query: no reply within 15.0s" right after the stack started).

Ready means able to answer now: the in-process query model loaded and warmed before the RPC
consumer starts, and a Dask worker listed with the ``embed`` resource is not enough until its
plugin has loaded the model.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import numpy as np

from chatlens.embedding_worker import embedding
from chatlens.shared import compute, model_files, schemas
from chatlens.shared.bus import Bus

GATEWAY_DEADLINE_S = 15.0  # what the gateway waits for embedding.query (SEARCH_TIMEOUT_S)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return 0, ""


def _counter(metrics: str, path: str) -> float:
    found = re.search(
        rf'^chatlens_embedding_query_batches_total\{{path="{path}"\}} (\S+)$', metrics, re.M
    )
    return float(found.group(1)) if found else 0.0


def test_queries_sent_the_moment_the_worker_is_ready_are_answered_in_process(rabbit_url, tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "AMQP_URL": rabbit_url,
        "DATA_DIR": str(tmp_path),
        "HEALTH_PORT": str(port),
        "EMBEDDING_BACKEND": "onnx-int8",
    }
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "chatlens.embedding_worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    bus = Bus(rabbit_url, "startup-test")
    try:
        deadline = time.monotonic() + 180
        while _get(f"http://127.0.0.1:{port}/readyz")[0] != 200:
            assert process.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, "the worker never became ready"
            time.sleep(0.05)
        # No pause: the first queries arrive as the bench's did, right after ready.
        latencies = []
        for n in range(5):
            started = time.monotonic()
            reply = bus.rpc().call(
                schemas.EmbedQuery(texts=[f"where is the offsite {n}?"]), timeout=GATEWAY_DEADLINE_S
            )
            latencies.append(time.monotonic() - started)
            assert reply.vectors.rows == 1
        metrics = _get(f"http://127.0.0.1:{port}/metrics")[1]
        assert _counter(metrics, "in-process") == 5, metrics
        assert _counter(metrics, "dask") == 0
        # Far inside the deadline even on a loaded 2-core machine (no Dask task, model warm).
        assert max(latencies) < GATEWAY_DEADLINE_S / 3, latencies
    finally:
        bus.rpc().close()
        bus.close()
        process.terminate()
        process.wait(timeout=60)


def test_a_worker_with_the_resource_but_no_model_yet_is_not_ready():
    client = compute.connect(None, name="startup-tests", resources=embedding.RESOURCES)
    try:
        embedder = embedding.Embedder(client, timeout_s=60)
        # The embed resource is there, the model is not (as while a joining worker loads it).
        assert not embedder.ready()
        embedding.register(client, str(model_files.embedding_model_dir()), backend="onnx-int8")
        assert embedder.ready()
        assert embedder.embed(["ready and answering"]).shape == (1, embedding.DIMENSIONS)
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()


def test_a_task_that_reaches_a_worker_still_loading_waits_for_the_model():
    plugin = embedding.EmbedderPlugin(str(model_files.embedding_model_dir()), backend="onnx-int8")
    results: list[np.ndarray] = []
    waiting = threading.Thread(target=lambda: results.append(plugin.encode(["early task"])))
    waiting.start()
    time.sleep(0.2)
    assert not results  # still waiting: no model yet, and no error either
    plugin.load()
    waiting.join(timeout=60)

    assert results and results[0].shape == (1, embedding.DIMENSIONS)
