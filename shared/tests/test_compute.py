"""``compute.connect``: the in-process Dask cluster the model services start by default."""

from __future__ import annotations

import dask

from chatlens.shared.compute import connect


def test_the_in_process_cluster_runs_without_dasks_profiler():
    """Its sys._current_frames() every 10 ms can deadlock a Python 3.11 process (gh-106883)."""
    client = connect(None, name="no-profiler", resources={"embed": 1})
    try:
        (worker,) = client.cluster.workers.values()
        assert "profile" not in worker.periodic_callbacks
        assert client.submit(sum, [1, 2]).result(timeout=30) == 3
    finally:
        client.close()
        client.cluster.close()
    assert dask.config.get("distributed.worker.profile.enabled") is True  # set for it alone
