"""The segment cache loads a segment once however many threads ask for it at the same moment
(at 1M messages, two RPC threads missing the same segment held it twice: 3.46 GiB against 1.5),
and a load that fails leaves the next reader to try again."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from chatlens.index.storage import segment as segment_module
from chatlens.index.storage.segment import Segment, SegmentCache, write_segment

from .conftest import make_message


@pytest.fixture
def segment_path(tmp_path: Path) -> Path:
    messages = [make_message(f"m{n}", n) for n in range(20)]
    vectors = np.random.default_rng(7).standard_normal((20, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    path = tmp_path / "segments" / "s1"
    write_segment(path, messages, [m.message_id for m in messages], vectors)
    return path


def test_threads_missing_the_same_segment_load_it_once(segment_path, monkeypatch):
    calls: list[Path] = []
    release = threading.Event()
    real_load = Segment.load

    def held_load(path: Path, derived: Path | None = None) -> Segment:
        calls.append(path)
        release.wait(timeout=10)
        return real_load(path, derived)

    monkeypatch.setattr(segment_module.Segment, "load", staticmethod(held_load))
    cache = SegmentCache(4)
    found: list[Segment] = []

    def read() -> None:
        found.append(cache.get(segment_path))

    threads = [threading.Thread(target=read)]
    threads[0].start()
    deadline = time.monotonic() + 30
    while not calls:  # the first reader is loading
        assert threads[0].is_alive() and time.monotonic() < deadline, "the first load never began"
        time.sleep(0.01)
    threads += [threading.Thread(target=read) for _ in range(7)]
    for thread in threads[1:]:
        thread.start()
    time.sleep(0.3)  # the others ask meanwhile (without the fix, each starts its own load)
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert len(found) == 8
    assert calls == [segment_path]
    assert all(segment is found[0] for segment in found)


def test_a_failed_load_lets_the_next_reader_load(segment_path, monkeypatch):
    real_load = Segment.load
    failures = iter([OSError("disk went away")])

    def flaky_load(path: Path, derived: Path | None = None) -> Segment:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return real_load(path, derived)

    monkeypatch.setattr(segment_module.Segment, "load", staticmethod(flaky_load))
    cache = SegmentCache(4)
    with pytest.raises(OSError, match="disk went away"):
        cache.get(segment_path)
    assert cache.get(segment_path).vector_ids[0] == "m0"
