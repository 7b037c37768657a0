"""Deletion and purge at scale, in-process: what a tombstone costs search, what a purge costs.

    python services/index/bench/bench_deletion.py [--messages 100000] [--uploads 10]

Builds a collection of ``--uploads`` versions of generated messages (random unit vectors, words
from a small vocabulary, 50 senders), then deletes one sender (2% of the messages), measures
semantic and hybrid search before and after (p50, same queries), and purges the sender from the
whole history. Prints timings; on 2 shared cores they are indicative only.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import faiss
import numpy as np

from chatlens.index.deletion import Deleter
from chatlens.index.ingest import Ingestor
from chatlens.index.search import Searcher
from chatlens.index.storage.layout import Layout
from chatlens.index.storage.segment import SegmentCache
from chatlens.shared.schemas import (
    ChatMessage,
    ChunksEmbedded,
    EmbeddingFinished,
    MessagesDeleteRequested,
    SearchRequested,
    Vectors,
)

DIM = 384
WORDS = [f"w{n}" for n in range(5000)]
WHERE = {"org_id": "org1", "collection_id": "coll1"}


def upload(ingestor: Ingestor, job: int, count: int, rng: np.random.Generator) -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    picker = random.Random(job)
    for batch_no, start in enumerate(range(0, count, 2000)):
        messages = [
            ChatMessage(
                message_id=f"j{job}-{n}",
                platform="slack",
                chat=f"chat{n % 20}",
                sender=f"person{n % 50}",
                sent_at=t0 + timedelta(seconds=n),
                tz_assumption="UTC",
                text=" ".join(picker.choices(WORDS, k=12)),
                seq=n,
                source_file="x.json",
            )
            for n in range(start, min(count, start + 2000))
        ]
        vectors = rng.standard_normal((len(messages), DIM)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        ingestor.on_batch(
            ChunksEmbedded(
                job_id=f"job{job}",
                **WHERE,
                batch_no=batch_no,
                messages=messages,
                vector_ids=[m.message_id for m in messages],
                vectors=Vectors.from_array(vectors),
                model="bench",
            )
        )
    ingestor.on_finished(
        EmbeddingFinished(job_id=f"job{job}", **WHERE, batches=batch_no + 1, stats={})
    )


def p50s(
    searcher: Searcher, queries: list[list[float]], mode: str, versions: tuple[int, int]
) -> tuple[float, float]:
    """p50 in ms at each of two versions, the two interleaved query by query (fair under load)."""
    times: tuple[list[float], list[float]] = ([], [])
    for vector in queries:
        for n, version in enumerate(versions):
            started = time.perf_counter()
            searcher.search(
                SearchRequested(
                    **WHERE, vector=vector, query="w17 w99", mode=mode, k=10, version=version
                )
            )
            times[n].append(time.perf_counter() - started)
    return statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--uploads", type=int, default=10)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    faiss.omp_set_num_threads(1)  # as the service runs it
    with tempfile.TemporaryDirectory() as tmp:
        layout = Layout(Path(tmp) / "index")
        segments = SegmentCache(256)
        ingestor = Ingestor(layout, lambda message: None, segments, DIM)
        started = time.perf_counter()
        for job in range(args.uploads):
            upload(ingestor, job, args.messages // args.uploads, rng)
        print(
            f"{args.messages} messages in {args.uploads} versions built in "
            f"{time.perf_counter() - started:.1f} s"
        )
        searcher = Searcher(layout, segments)
        queries = rng.standard_normal((200, DIM)).astype(np.float32).tolist()
        deleter = Deleter(segments, ingestor)
        started = time.perf_counter()
        deleted = deleter.delete(MessagesDeleteRequested(**WHERE, sender="person7"))
        print(f"delete sender: {deleted.removed} messages, {time.perf_counter() - started:.2f} s")
        versions = (deleted.version - 1, deleted.version)
        for mode in ("semantic", "hybrid"):
            p50s(searcher, queries[:10], mode, versions)  # warm both
            before, after = p50s(searcher, queries, mode, versions)
            print(
                f"{mode} p50: {before:.2f} ms without, {after:.2f} ms with "
                f"{deleted.removed} tombstones (ratio {after / before:.2f})"
            )
        repo = layout.collection("org1", "coll1")

        def size() -> int:
            done = subprocess.run(["du", "-sk", str(repo / ".git")], capture_output=True, text=True)
            return int(done.stdout.split()[0])

        before = size()
        started = time.perf_counter()
        purged = deleter.delete(MessagesDeleteRequested(**WHERE, sender="person8", purge=True))
        print(
            f"purge sender: {purged.purged} messages from {purged.rewritten} versions, "
            f"{time.perf_counter() - started:.1f} s; .git {before} KiB -> {size()} KiB"
        )


if __name__ == "__main__":
    main()
