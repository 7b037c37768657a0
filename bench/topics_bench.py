"""Topics benchmark: the topics job on 100k messages on 2 cores, time and silhouette.

    python bench/topics_bench.py [--sizes 100000] [--pool 4000] [--threads 2] [--map-points 5000]

Per size: a generated chat of messages drawn from 12 planted topics (each with words of its own
among words every topic uses, plus short "ok"/"thanks" messages, which are noise) is embedded
with the real model (all-MiniLM-L6-v2, from its package): ``--pool`` distinct texts are
embedded, and each message takes one of them (embedding 100k texts on 2 cores would be the
ingest benchmark's business, not this one's). The collection is written through the index's
storage code (the segment a sealed job writes) and kept in ``var/bench/topics`` for the next
run. The job then runs exactly as the index runs it (``TopicsJobs.run``: the version's vectors
and texts gathered, k by silhouette on a sample, KMeans, c-TF-IDF labels, the openTSNE map of
``--map-points`` points) on an in-process Dask LocalCluster of ``--threads`` threads, into a fresh
cache, and the time of each stage and the whole is printed with the silhouette and how well the
planted topics were recovered (adjusted Rand index on the clustered messages). Writes
``var/bench/topics.json``; asserts nothing (a shared machine: compare within a run).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "bench"
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sklearn.metrics import adjusted_rand_score  # noqa: E402

from chatlens.index.analytics.topics_cache import TopicsCache  # noqa: E402
from chatlens.index.analytics.topics_job import TopicsJobs  # noqa: E402
from chatlens.index.manifests import ManifestReader  # noqa: E402
from chatlens.index.storage.collection import Collection, NewSegment  # noqa: E402
from chatlens.index.storage.layout import Layout  # noqa: E402
from chatlens.index.storage.segment import SegmentCache  # noqa: E402
from chatlens.shared import compute  # noqa: E402
from chatlens.shared.handling import Delivery  # noqa: E402
from chatlens.shared.model_files import embedding_model_dir  # noqa: E402
from chatlens.shared.schemas import (  # noqa: E402
    ChatMessage,  # noqa: E402
    TopicsComputed,
    TopicsLookup,
    TopicsParams,
    TopicsProgressed,
    TopicsRequested,
)

TOPICS = {
    "travel": "flight hotel passport airport luggage beach booking train",
    "football": "match goal striker referee stadium league penalty coach",
    "cooking": "recipe oven pasta garlic dinner sauce bake kitchen",
    "deploys": "deploy server rollback pipeline cluster build release outage",
    "money": "invoice payment budget salary bank rent taxes refund",
    "health": "doctor appointment fever pharmacy vaccine dentist sleep gym",
    "music": "concert guitar album playlist band tickets festival song",
    "school": "homework exam teacher class grades lesson school project",
    "weather": "rain storm sunny forecast snow cold umbrella wind",
    "cars": "car mechanic tyres fuel parking garage engine insurance",
    "books": "chapter author poetry library reading bookshop fiction publisher",
    "pets": "dog cat vet walk puppy leash treats kitten",
}
SHARED = "today tomorrow really think maybe people thing later guys week".split()
SHORT = ["ok", "thanks!", "lol", "yes", "sure", "👍", "haha ok"]
START = datetime(2024, 1, 1, tzinfo=UTC)


def texts_pool(size: int, seed: int = 5) -> tuple[list[str], list[int]]:
    """``size`` distinct texts and the planted topic of each (-1: a short one, noise)."""
    rng = np.random.default_rng(seed)
    names = list(TOPICS)
    texts, topics, seen = [], [], set()
    while len(texts) < size:
        if rng.random() < 0.08:
            text, topic = f"{rng.choice(SHORT)} {len(texts)}", -1
        else:
            topic = int(rng.integers(len(names)))
            words = TOPICS[names[topic]].split()
            text = " ".join([*rng.choice(words, 3, replace=False), *rng.choice(SHARED, 3)])
            text = f"{text[0].upper()}{text[1:]}, {rng.choice(words)}?"
        if text not in seen:
            seen.add(text)
            texts.append(text)
            topics.append(topic)
    return texts, topics


def build(size: int, pool: int) -> tuple[Layout, dict[str, int]]:
    """The collection (kept for the next run) and the planted topic of each message id."""
    layout = Layout(OUT / "topics" / f"{size}-{pool}")
    path = layout.collection("bench", "c1")
    truth_file = layout.root / "truth.json"
    if Collection(path).exists() and truth_file.exists():
        return layout, json.loads(truth_file.read_text())
    shutil.rmtree(layout.root, ignore_errors=True)
    texts, planted = texts_pool(pool)
    from sentence_transformers import SentenceTransformer

    started = time.perf_counter()
    model = SentenceTransformer(str(embedding_model_dir()), device="cpu")
    vectors = model.encode(
        texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True
    ).astype(np.float32)
    print(f"  embedded {pool:,} distinct texts in {time.perf_counter() - started:.0f} s")
    rng = np.random.default_rng(11)
    pick = rng.integers(pool, size=size)
    messages = [
        ChatMessage(
            message_id=f"m{n}",
            platform="whatsapp",
            chat="Bench",
            sender=f"person{n % 17}",
            sent_at=START + timedelta(minutes=5 * n),
            tz_assumption="UTC",
            kind="text",
            text=texts[pick[n]],
            seq=n,
            source_file="bench.txt",
        )
        for n in range(size)
    ]
    collection = Collection.create(path, dim=vectors.shape[1])
    collection.add_version(
        "job1",
        NewSegment(messages, [m.message_id for m in messages], vectors[pick]),
        {"messages": size},
        f"{size} generated messages",
    )
    truth = {f"m{n}": planted[pick[n]] for n in range(size)}
    truth_file.write_text(json.dumps(truth))
    return layout, truth


def run_size(size: int, pool: int, threads: int, map_points: int) -> dict:
    layout, truth = build(size, pool)
    client = compute.connect(None, name="topics-bench", resources={}, threads=threads)
    stages: dict[str, float] = {}
    last = [time.perf_counter(), "reading"]

    def publish(message) -> None:
        if isinstance(message, TopicsProgressed) and message.stage != last[1]:
            now = time.perf_counter()
            stages[str(last[1])] = now - float(last[0])
            last[:] = [now, message.stage]
        if isinstance(message, TopicsComputed):
            stages[str(last[1])] = time.perf_counter() - float(last[0])

    params = TopicsParams(map_points=map_points)
    with tempfile.TemporaryDirectory() as cache:
        jobs = TopicsJobs(
            ManifestReader(layout),
            SegmentCache(4),
            TopicsCache(Path(cache)),
            publish,
            lambda: client,
        )
        started = time.perf_counter()
        last[0] = started
        jobs.run(
            TopicsRequested(
                job_id="bench", org_id="bench", collection_id="c1", version=1, params=params
            ),
            Delivery(queue="index.jobs", redelivered=False, delivery_count=1, correlation_id=None),
        )
        seconds = time.perf_counter() - started
        result = jobs.lookup(TopicsLookup(org_id="bench", collection_id="c1", params=params)).result
    client.close()
    assert result is not None
    labels = {p["message_id"]: p["topic"] for p in result["map"]["points"]}
    mapped = [m for m in labels if truth[m] >= 0]
    agreement = (
        adjusted_rand_score([truth[m] for m in mapped], [labels[m] for m in mapped])
        if mapped
        else None
    )
    figures = {
        "messages": size,
        "distinct_texts": pool,
        "threads": threads,
        "seconds": round(seconds, 1),
        "stages_s": {k: round(v, 1) for k, v in stages.items()},
        "k": result["k"],
        "silhouette": result["silhouette"],
        "scores": result["scores"],
        "clustered": result["clustered"],
        "noise": result["noise"],
        "map_points": len(result["map"]["points"]),
        "adjusted_rand_vs_planted": agreement,
        "labels": [t["label"] for t in result["topics"]],
    }
    print(
        f"  {size:,} messages: {seconds:.1f} s on {threads} threads "
        f"({', '.join(f'{k} {v:.1f} s' for k, v in stages.items())}); k {result['k']} "
        f"(planted {len(TOPICS)}), silhouette {result['silhouette']:.3f}, "
        f"adjusted Rand vs planted {agreement:.3f}"
    )
    for topic in result["topics"]:
        print(f"    {topic['topic']:2d} {topic['size']:6,}  {topic['label']}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--pool", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--map-points", type=int, default=5000)
    args = parser.parse_args()
    print(f"topics benchmark ({os.cpu_count()} cores seen; load {os.getloadavg()[0]:.1f})")
    runs = [
        run_size(int(size), min(args.pool, int(size)), args.threads, args.map_points)
        for size in args.sizes.split(",")
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "topics.json").write_text(json.dumps(runs, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main())
