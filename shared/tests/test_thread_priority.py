"""``compute.lower_thread_priority``: the calling thread and the threads it starts afterwards
yield the CPU; the rest of the process keeps its priority (Linux nice values are per thread)."""

from __future__ import annotations

import os
import threading

from chatlens.shared.compute import lower_thread_priority


def nice_of(thread_id: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, thread_id)


def test_the_calling_thread_and_its_children_are_lowered_and_nothing_else():
    before = nice_of(threading.get_native_id())
    seen: dict[str, int] = {}

    def child() -> None:
        seen["child"] = nice_of(threading.get_native_id())

    def loop() -> None:
        lower_thread_priority(3)
        seen["loop"] = nice_of(threading.get_native_id())
        started = threading.Thread(target=child)
        started.start()
        started.join()

    worker = threading.Thread(target=loop)
    worker.start()
    worker.join()
    assert seen == {"loop": min(before + 3, 19), "child": min(before + 3, 19)}
    assert nice_of(threading.get_native_id()) == before


def test_zero_leaves_the_thread_as_it_is():
    seen = []
    worker = threading.Thread(
        target=lambda: (lower_thread_priority(0), seen.append(nice_of(threading.get_native_id())))
    )
    worker.start()
    worker.join()
    assert seen == [nice_of(threading.get_native_id())]
