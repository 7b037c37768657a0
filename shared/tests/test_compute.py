"""``compute.connect``: the in-process Dask cluster the model services start by default."""

from __future__ import annotations

import dask

from chatlens.shared.compute import connect, lower_thread_priority


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


def test_a_lowered_thread_takes_the_openmp_workers_its_torch_operations_start_with_it():
    """The promise the LLM's decode loop relies on: the nice value is the thread's, and the
    OpenMP workers a parallel torch operation starts from that thread inherit it; the thread
    that started the lowered one keeps its own."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # one (as an earlier test may leave it) would start no workers
    try:
        lowered_workers_inherit(torch)
    finally:
        torch.set_num_threads(threads)


def lowered_workers_inherit(torch) -> None:
    import os
    import threading

    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    (torch.ones(4_000_000) * 2).sum()  # this thread's own OpenMP workers exist before
    lowered: list[int] = []

    def lowered_work() -> None:
        lower_thread_priority(5)
        before = set(os.listdir("/proc/self/task"))
        # Four million elements: far above at::parallel_for's grain, so every torch thread works.
        (torch.ones(4_000_000) * 2).sum()
        started = set(os.listdir("/proc/self/task")) - before
        lowered.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        lowered.extend(os.getpriority(os.PRIO_PROCESS, int(tid)) for tid in started)

    worker = threading.Thread(target=lowered_work)
    worker.start()
    worker.join()
    # The thread itself and one OpenMP worker per torch thread beyond the first (any other
    # thread the process started meanwhile would be at the base and fail the count).
    assert lowered.count(min(base + 5, 19)) >= torch.get_num_threads()
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base


def test_no_niceness_leaves_the_thread_as_it_is():
    import os
    import threading

    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    lower_thread_priority(0)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base
