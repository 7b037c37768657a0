"""Search benchmark: latency and throughput of semantic search inside the index service (the
``Searcher`` itself) and through the gateway's HTTP API, recall@10 of the ANN segments against
exact search, and the same vectors in Chroma (embedded ``chromadb``) measured in the same run.

    python bench/search_bench.py [--sizes 100000,1000000] [--queries 300]
                                 [--chroma-sizes 100000,1000000]
                                 [--gateway-sizes 100000,1000000] [--gateway-queries 100]
                                 [--gateway-before]

``--gateway-before`` also measures the gateway, in the same run, with the query path as it was
before issue 16 (torch, every query a Dask task: ``EMBEDDING_BACKEND=torch
QUERY_IN_PROCESS_MAX=0``) beside the configured one (the int8 model answering queries in-process).

Through the gateway, the response's ``Server-Timing`` header splits each search into the
gateway's steps (database, query embedding RPC, index RPC, the whole request in the gateway).
On a quiet 2-core machine the whole run takes about 15 minutes with the collections built
(the 1M collection takes 4 minutes to build, Chroma 4.5 minutes to load it).

Vectors: a few thousand generated chat messages embedded with the real all-MiniLM-L6-v2, and
the collections built from mixtures of them plus noise (``search_data``): embedding a million
messages would take about an hour here. Queries are real embeddings of held-out messages.
Collections are written straight through the index's storage code (the same segments a sealed
job writes, HNSW from the service's default ``AnnConfig``) and kept in ``var/bench/search`` for
the next run. Prints figures and ratios, writes ``var/bench/search.json``; asserts nothing: on 2
shared cores only ratios measured within one run mean much.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "var" / "bench"
SEGMENT_ROWS = 250_000  # a collection is written as uploads of at most this many messages
BASE_TEXTS, QUERY_TEXTS = 3600, 400
CHATS = 50
K = 10
CLIENTS = 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument(
        "--chroma-sizes", default="100000,1000000", help="sizes also loaded into Chroma"
    )
    parser.add_argument("--gateway-sizes", default="100000,1000000")
    parser.add_argument("--gateway-queries", type=int, default=100)
    parser.add_argument(
        "--gateway-before",
        action="store_true",
        help="also measure the gateway with the old query path (torch on Dask)",
    )
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sizes = [int(s) for s in args.sizes.split(",") if s]
    chroma_sizes = {int(s) for s in args.chroma_sizes.split(",") if s}
    gateway_sizes = {int(s) for s in args.gateway_sizes.split(",") if s}

    import faiss
    from search_data import chat_texts, embed

    from chatlens.index.storage.layout import Layout

    texts = chat_texts(BASE_TEXTS + QUERY_TEXTS)
    vectors = embed(texts, OUT / f"search-embeddings-{len(texts)}.npy")
    base, base_texts = vectors[:BASE_TEXTS], texts[:BASE_TEXTS]
    queries = vectors[BASE_TEXTS : BASE_TEXTS + args.queries]
    query_texts = texts[BASE_TEXTS : BASE_TEXTS + args.queries]
    print(
        f"vectors: {len(base)} real all-MiniLM-L6-v2 embeddings of generated chat messages, "
        f"mixed in pairs plus noise and re-normalised up to each size (not a real corpus); "
        f"{len(queries)} queries are real embeddings of held-out messages",
        flush=True,
    )

    results = {
        "note": "generated vectors (mixtures of real embeddings); 2 shared cores: noisy",
        "sizes": {},
    }
    for size in sizes:
        print(f"\n=== {size:,} messages", flush=True)
        matrix, collection_dir = build_collection(size, base, base_texts)
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        exact = faiss.IndexFlatIP(matrix.shape[1])
        exact.add(matrix)
        _, truth = exact.search(queries, K)  # exact top-10, for recall
        del exact
        faiss.omp_set_num_threads(1)  # as the index service runs (FAISS_THREADS)
        row = {"index": measure_index(collection_dir, queries, truth)}
        if size in chroma_sizes:
            row["chroma"] = measure_chroma(size, matrix, queries, truth)
            row["ratio_index_over_chroma"] = {
                key: round(row["index"][key] / row["chroma"][key], 3)
                for key in ("p50_ms", "p99_ms", "recall_at_10")
            }
        results["sizes"][str(size)] = row
        del matrix
    # Through the gateway last: the stack (and its embedding worker) competes for the 2 cores.
    for size in sizes:
        if size in gateway_sizes:
            collection_dir = Layout(OUT / "search" / f"{size}").collection("orgbench", "collbench")
            runs = {"gateway": {}}
            if args.gateway_before:
                runs["gateway_before"] = {"EMBEDDING_BACKEND": "torch", "QUERY_IN_PROCESS_MAX": "0"}
            for where, env in runs.items():
                try:
                    results["sizes"][str(size)][where] = measure_gateway(
                        collection_dir, query_texts, args.gateway_queries, env
                    )
                except Exception as exc:  # report the other figures even if the stack fails
                    print(f"  {where}: failed: {exc!r}", flush=True)
    (OUT / "search.json").write_text(json.dumps(results, indent=2))
    report(results)


# --- building ---------------------------------------------------------------------------------


def build_collection(size: int, base: np.ndarray, base_texts: list[str]) -> tuple[np.ndarray, Path]:
    """The size's vectors, and a collection of them written with the index's storage code
    (reused from an earlier run when its vectors and ANN settings are the same)."""
    from search_data import mixtures

    from chatlens.index import keyword
    from chatlens.index.storage.ann import AnnConfig
    from chatlens.index.storage.collection import Collection, NewSegment
    from chatlens.index.storage.layout import Layout
    from chatlens.shared.schemas import ChatMessage

    matrix, sources = mixtures(base, size, seed=size)
    ann = AnnConfig()
    key = {
        "size": size,
        "ann": ann.__dict__,
        "segment_rows": SEGMENT_ROWS,
        "checksum": float(matrix[:1000].sum()),
    }
    root = OUT / "search" / f"{size}"
    path = Layout(root).collection("orgbench", "collbench")
    stamp = root / "built.json"
    if stamp.exists() and json.loads(stamp.read_text()) == key:
        print("  collection built earlier, reused", flush=True)
        return matrix, path
    shutil.rmtree(root, ignore_errors=True)
    # The messages' texts repeat (they are the base texts): tokenise each once, not per message.
    if not hasattr(keyword.tokenize, "cache_info"):
        keyword.tokenize = functools.lru_cache(maxsize=None)(keyword.tokenize)
    started = time.perf_counter()
    collection = Collection.create(path, matrix.shape[1])
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    for number, start in enumerate(range(0, size, SEGMENT_ROWS)):
        end = min(size, start + SEGMENT_ROWS)
        ids = [f"m{i}" for i in range(start, end)]
        messages = [
            ChatMessage(
                message_id=ids[i - start],
                platform="whatsapp",
                chat=f"chat{i % CHATS}",
                sender=f"person{i % 8}",
                sent_at=t0 + timedelta(seconds=30 * i),
                tz_assumption="UTC",
                kind="text",
                text=base_texts[sources[i]],
                seq=i,
                source_file="bench.txt",
                source_line=i + 1,
            )
            for i in range(start, end)
        ]
        collection.add_version(
            f"bench{number}",
            NewSegment(messages, ids, matrix[start:end]),
            {"added": len(ids)},
            f"bench upload {number}",
            ann,
        )
        print(
            f"  segment {number}: {len(ids):,} messages written "
            f"({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    stamp.write_text(json.dumps(key))
    return matrix, path


# --- measuring --------------------------------------------------------------------------------


def percentiles(seconds: list[float]) -> dict:
    ms = np.array(seconds) * 1000
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p99_ms": round(float(np.percentile(ms, 99)), 3),
    }


def throughput(call, items: list, clients: int = CLIENTS) -> float:
    """Queries per second with ``clients`` threads each sending queries back to back."""

    def run(part: list) -> None:
        for item in part:
            call(item)

    parts = [items[i::clients] for i in range(clients)]
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(run, parts))
    return round(len(items) / (time.perf_counter() - started), 1)


def recall(found: list[list[int]], truth: np.ndarray) -> float:
    return round(
        float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True)])), 4
    )


def resident_gib() -> float:
    """This process's resident memory (Linux), in GiB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**30


def measure_index(collection_dir: Path, queries: np.ndarray, truth: np.ndarray) -> dict:
    """The Searcher itself, as the RPC handler calls it: semantic, k 10, context 2."""
    from chatlens.index.search import Searcher
    from chatlens.index.storage.layout import Layout
    from chatlens.index.storage.segment import SegmentCache
    from chatlens.shared.schemas import SearchFilters, SearchRequested

    layout = Layout(collection_dir.parents[2])
    searcher = Searcher(layout, SegmentCache(64))
    started, rss_before = time.perf_counter(), resident_gib()

    def request(query: np.ndarray, filters: SearchFilters | None = None) -> SearchRequested:
        return SearchRequested(
            org_id="orgbench",
            collection_id="collbench",
            mode="semantic",
            vector=query.tolist(),
            k=K,
            context=2,
            filters=filters or SearchFilters(),
        )

    searcher.search(request(queries[0]))
    load_s, loaded_gib = time.perf_counter() - started, resident_gib() - rss_before
    print(
        f"  index: segments loaded in {load_s:.0f} s, {loaded_gib:.2f} GiB more resident memory",
        flush=True,
    )
    for query in queries[:20]:  # warm-up
        searcher.search(request(query))
    timings, found = [], []
    for query in queries:
        t = time.perf_counter()
        answer = searcher.search(request(query))
        timings.append(time.perf_counter() - t)
        found.append([int(h.message.message_id[1:]) for h in answer.hits])
    out = {
        **percentiles(timings),
        "recall_at_10": recall(found, truth),
        "load_s": round(load_s, 1),
        "loaded_gib": round(loaded_gib, 2),
    }
    narrow, broad = ["chat7"], [f"chat{n}" for n in range(10)]  # 2% and 20% of the messages
    for name, chats in (("filter_2pct", narrow), ("filter_20pct", broad)):
        filters = SearchFilters(chat=chats)
        spent = []
        for query in queries[:100]:
            t = time.perf_counter()
            searcher.search(request(query, filters))
            spent.append(time.perf_counter() - t)
        out[name] = percentiles(spent)
    out["qps_8_clients"] = throughput(lambda q: searcher.search(request(q)), list(queries) * 2)
    print(f"  index: {out}", flush=True)
    return out


def measure_chroma(size: int, matrix: np.ndarray, queries: np.ndarray, truth: np.ndarray) -> dict:
    """The same vectors in embedded Chroma (its HNSW, inner product, default parameters)."""
    import chromadb

    path = OUT / f"chroma-{size}"
    shutil.rmtree(path, ignore_errors=True)
    client = chromadb.PersistentClient(path=str(path))
    collection = client.create_collection("bench", configuration={"hnsw": {"space": "ip"}})
    started = time.perf_counter()
    batch = min(5000, client.get_max_batch_size())
    for start in range(0, size, batch):
        end = min(size, start + batch)
        collection.add(ids=[f"m{i}" for i in range(start, end)], embeddings=matrix[start:end])
    load_s = time.perf_counter() - started
    print(f"  chroma: {size:,} vectors loaded in {load_s:.0f} s", flush=True)
    for query in queries[:20]:
        collection.query(query_embeddings=[query], n_results=K)
    timings, found = [], []
    for query in queries:
        t = time.perf_counter()
        answer = collection.query(query_embeddings=[query], n_results=K)
        timings.append(time.perf_counter() - t)
        found.append([int(i[1:]) for i in answer["ids"][0]])
    out = {**percentiles(timings), "recall_at_10": recall(found, truth), "load_s": round(load_s, 1)}
    out["qps_8_clients"] = throughput(
        lambda q: collection.query(query_embeddings=[q], n_results=K), list(queries) * 2
    )
    print(f"  chroma: {out}", flush=True)
    del client
    shutil.rmtree(path, ignore_errors=True)
    return out


def measure_gateway(
    collection_dir: Path, query_texts: list[str], n: int, env: dict[str, str] | None = None
) -> dict:
    """``POST /api/v1/collections/{id}/search`` through the whole stack: the gateway checks the
    token, the embedding worker embeds the query text, the index searches (semantic, k 10).

    The embedding worker caches query vectors, so each pass gets texts it has not seen: 10 to
    warm up, ``n`` one at a time, ``n`` with 8 clients; then the first ``n`` again, to show a
    repeated query (a later page, the same question again)."""
    warm, single, threaded = (
        query_texts[:10],
        query_texts[10 : 10 + n],
        query_texts[10 + n : 10 + 2 * n],
    )
    if len(threaded) < n:
        raise ValueError(f"{len(query_texts)} query texts: need {10 + 2 * n} (--queries)")
    from chatlens.cli.client import Client
    from chatlens.cli.stack import Stack, StackConfig
    from chatlens.index.storage.collection import Collection

    sys.path.insert(0, str(ROOT / "bench"))
    from ingest_bench import _drop_vhost, _vhost

    state = OUT / "search-stack"
    shutil.rmtree(state, ignore_errors=True)
    vhost = _vhost()
    stack = Stack(
        StackConfig(
            root=ROOT,
            state=state,
            base_port=19200,
            nginx_port=19280,
            nginx=False,
            services=("auth", "index", "embedding-worker", "gateway"),
            # The steps come from Server-Timing, off unless asked for; the
            # bench searches faster than the product's rate limits allow.
            # No inference service here: the gateway's readiness
            # must not wait for one (READY_REQUIRES_SERVICES).
            extra_env={
                "SERVER_TIMING": "1",
                "RATE_LIMIT_SCALE": "1000",
                "READY_REQUIRES_SERVICES": "false",
                **(env or {}),
            },
            amqp_url=f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
        )
    )
    try:
        print("  gateway: starting the stack …", flush=True)
        stack.up(wait_s=600)
        client = Client(stack.config.gateway_url)
        email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
        client.register(email, "bench-password-long-enough")
        client.login(email, "bench-password-long-enough")
        org_id = client.me()["org"]["id"]
        collection = client.create_collection("search bench")
        target = state / "data" / "index" / "collections" / org_id / collection["id"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(collection_dir, target, symlinks=True)
        # The gateway's record still says version 0 (no job went through it): pin the version.
        version = Collection(target).manifest().version

        http = requests.Session()
        url = f"{stack.config.gateway_url}/api/v1/collections/{collection['id']}/search"

        def search(text: str) -> dict[str, float]:
            """One search; the gateway's Server-Timing steps, in seconds."""
            response = http.post(
                url,
                headers={"Authorization": f"Bearer {client.token}"},
                json={"query": text, "k": K, "mode": "semantic", "version": version},
                timeout=60,
            )
            response.raise_for_status()
            return {
                name: float(dur) / 1000
                for name, dur in (
                    step.split(";dur=") for step in response.headers["Server-Timing"].split(", ")
                )
            }

        # The first search loads the segments into the index service (tens of seconds at 1M,
        # longer than the gateway waits for an RPC: it answers 503 until they are in memory).
        started, deadline = time.perf_counter(), time.monotonic() + 900
        while True:
            try:
                search(warm[0])
                break
            except requests.HTTPError as exc:
                if exc.response.status_code != 503 or time.monotonic() > deadline:
                    raise
        print(
            f"  gateway: segments loaded by the index service in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
        for text in warm:
            search(text)
        print(
            f"  gateway: {n} queries, one client, then {CLIENTS} clients, then the first "
            f"{n} again …",
            flush=True,
        )

        def timed_searches(texts: list[str]) -> tuple[list[float], dict[str, list[float]]]:
            timings, steps = [], {}
            for text in texts:
                t = time.perf_counter()
                for name, seconds in search(text).items():
                    steps.setdefault(name, []).append(seconds)
                timings.append(time.perf_counter() - t)
            return timings, steps

        timings, steps = timed_searches(single)
        out = percentiles(timings)
        # Where the time goes: the gateway's own steps (p50 of each), and the rest (HTTP, the
        # werkzeug server, authentication, JSON) as total minus the steps.
        out["steps_p50_ms"] = {
            name: round(float(np.median(v)) * 1000, 3) for name, v in steps.items()
        }
        lock = threading.Lock()  # one Client per thread: it holds its session and tokens

        def threaded_search(text: str, clients: dict = {}) -> None:  # noqa: B006 - per-thread cache
            name = threading.current_thread().name
            with lock:
                own = clients.get(name)
                if own is None:
                    own = clients[name] = Client(stack.config.gateway_url)
                    own.login(email, "bench-password-long-enough")
            own.search(collection["id"], text, k=K, mode="semantic", version=version)

        out["qps_8_clients"] = throughput(threaded_search, threaded)
        again, _ = timed_searches(single)  # the query vectors now come from the cache
        out["repeated_query"] = percentiles(again)
        print(f"  gateway: {out}", flush=True)
        return out
    finally:
        stack.down()
        _drop_vhost(vhost)
        shutil.rmtree(state / "data", ignore_errors=True)  # the copied collection; logs stay


def report(results: dict) -> None:
    print("\nsearch benchmark (semantic, k 10; " + results["note"] + ")")
    print(f"{'size':>10} {'where':<14} {'p50 ms':>8} {'p99 ms':>8} {'recall@10':>9} {'qps x8':>8}")
    for size, row in results["sizes"].items():
        for where in ("index", "chroma", "gateway", "gateway_before"):
            if where in row:
                r = row[where]
                print(
                    f"{int(size):>10,} {where:<14} {r['p50_ms']:>8} {r['p99_ms']:>8} "
                    f"{r.get('recall_at_10', '-'):>9} {r['qps_8_clients']:>8}"
                )
        index = row["index"]
        print(
            f"{'':>10} index: segments loaded in {index['load_s']} s, holding "
            f"{index['loaded_gib']} GiB in memory"
        )
        narrow, broad = row["index"]["filter_2pct"], row["index"]["filter_20pct"]
        for where in ("gateway", "gateway_before"):
            if where not in row:
                continue
            parts = ", ".join(f"{name} {ms}" for name, ms in row[where]["steps_p50_ms"].items())
            print(
                f"{'':>10} {where} steps, p50 ms (Server-Timing; app = the whole request in "
                f"the gateway): {parts}"
            )
        if "gateway" in row:
            repeated = row["gateway"]["repeated_query"]
            print(
                f"{'':>10} gateway, a query asked again (its vector cached): p50 "
                f"{repeated['p50_ms']} p99 {repeated['p99_ms']}"
            )
        print(
            f"{'':>10} index with a chat filter: 2% of messages p50 {narrow['p50_ms']} "
            f"p99 {narrow['p99_ms']}; 20% p50 {broad['p50_ms']} p99 {broad['p99_ms']}"
        )
        if "ratio_index_over_chroma" in row:
            ratio = row["ratio_index_over_chroma"]
            print(
                f"{'':>10} index/chroma: p50 {ratio['p50_ms']}, p99 {ratio['p99_ms']}, "
                f"recall {ratio['recall_at_10']} (below 1 is faster; recall above 1 is better)"
            )
    print(
        "goal: p99 inside the index at 1M under 20 ms on 2 cores, faster than Chroma at equal "
        "or better recall (ratios only; nothing asserted)"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
