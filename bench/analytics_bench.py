"""Analytics benchmark: overview, activity (with the hour x weekday heatmap), the calendar heatmap
and people at 100k and 1M messages (and interaction, conversations and language through the
index and directly in DuckDB only; ``analytics_reports.py`` times those alone), through the
gateway's HTTP API and through the index's analytics function,
against the same queries run directly in DuckDB on the same columns, and against pandas on the
parsed messages (what whatstk and chat-miner use).

    python bench/analytics_bench.py [--sizes 100000,1000000] [--repeats 15]
                                    [--gateway-sizes 100000,1000000] [--gateway-repeats 30]

Per size: a generated history (``services/index/tests/analytics_data``) is written as one real
collection through the index's storage code (the segment a sealed job writes, columns included)
and kept in ``var/bench/analytics`` for the next run; the index answers ``AnalyticsRequested``
exactly as its RPC handler does (``Analytics.answer``: manifest, segments, tombstones, filters,
DuckDB). "DuckDB direct" runs the same report SQL on the segment's Parquet file read once and
prepared once (``analytics.prepared``: what the index keeps per version), with nothing of the
index around it. pandas builds one DataFrame from the parsed messages (not timed) and computes
the same numbers with groupby. Through the gateway: a stack (auth, index, gateway; ports from
``ANALYTICS_BENCH_PORT``, 19300) gets the same collection copied in, and each report is asked
over HTTP with a token, as the web app asks it; the index service's resident memory and the
time its first answer took (the segment loaded) are read there. Each figure is wall time (p50,
p99) and, in-process, CPU time (p50; the process's, DuckDB's threads included), because on a
loaded machine wall time is mostly waiting for a core. Prints the ratios, writes
``var/bench/analytics.json``; asserts nothing (2 shared cores: compare within a run).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import emoji
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "services" / "index" / "tests"))

import pandas as pd  # noqa: E402
from analytics_data import generate  # noqa: E402

from chatlens.index.analytics import service as analytics_service  # noqa: E402
from chatlens.index.analytics import sql  # noqa: E402
from chatlens.index.analytics.frame import FIELDS as live_fields  # noqa: E402
from chatlens.index.analytics.prepared import prepare  # noqa: E402
from chatlens.index.analytics.service import Analytics  # noqa: E402
from chatlens.index.manifests import ManifestReader  # noqa: E402
from chatlens.index.storage import columns as column_file  # noqa: E402
from chatlens.index.storage.collection import Collection, NewSegment  # noqa: E402
from chatlens.index.storage.columns import COLUMNS  # noqa: E402
from chatlens.index.storage.layout import Layout  # noqa: E402
from chatlens.index.storage.segment import SegmentCache  # noqa: E402
from chatlens.shared.schemas import AnalyticsRequested  # noqa: E402

OUT = ROOT / "var" / "bench"
REPORTS = {
    "overview": {},
    "activity": {"stack": "person", "bucket": "week"},
    "calendar": {},
    "people": {},
}
# The later reports: through the index and directly in DuckDB (no pandas equivalent written).
LATER = {"interaction": {}, "conversations": {}, "language": {}}
# Bumped when analytics_data or the segment's columns change: a kept collection of older data is
# not reused (v3: the language report's columns, ``storage.words``).
DATA = "v3"
ZONE = "Europe/Lisbon"
GAP = timedelta(minutes=30)


def resident_gib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 2**20
    return float("nan")


def build(size: int, messages) -> Layout:
    """The collection of ``size`` messages, written once (kept for the next run)."""
    layout = Layout(OUT / "analytics" / f"{size}-{DATA}")
    path = layout.collection("bench", "c1")
    if Collection(path).exists():
        return layout
    shutil.rmtree(path, ignore_errors=True)
    started = time.perf_counter()
    collection = Collection.create(path, dim=4)
    # No vectors: analytics reads only the message records and their columns.
    collection.add_version(
        "job1",
        NewSegment(messages, [], np.zeros((0, 4), np.float32)),
        {"messages": size},
        f"{size} generated messages",
    )
    print(f"  built the {size:,} collection in {time.perf_counter() - started:.0f} s")
    return layout


def corpus(size: int, keep_messages: bool = False) -> tuple[Layout, list | None]:
    """The kept collection of ``size`` generated messages (``build``; generated and written
    when missing), and with ``keep_messages`` the generated messages themselves (pandas)."""
    layout = Layout(OUT / "analytics" / f"{size}-{DATA}")
    if not keep_messages and Collection(layout.collection("bench", "c1")).exists():
        return layout, None
    started = time.perf_counter()
    messages = generate(size, seed=size)
    print(f"  generated in {time.perf_counter() - started:.0f} s")
    return build(size, messages), messages if keep_messages else None


def segment_columns(layout: Layout):
    """The columns of the collection's one segment, read as the index reads them."""
    segment_path = Collection(layout.collection("bench", "c1")).segment_path("")
    [parquet] = sorted(segment_path.glob(f"*/{COLUMNS}"))
    return column_file.load(parquet.parent)


def timed(call: Callable[[], object], repeats: int) -> dict:
    """p50/p99 wall and p50 CPU milliseconds of ``repeats`` calls, after one (``first_ms``: the
    version's frame prepared, DuckDB's first plan)."""
    started = time.perf_counter()
    call()
    first = (time.perf_counter() - started) * 1000
    times, cpu = [], []
    for _ in range(repeats):
        started, used = time.perf_counter(), time.process_time()
        call()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    times.sort()
    return {
        "p50_ms": statistics.median(times),
        "p99_ms": times[min(len(times) - 1, round(0.99 * (len(times) - 1)))],
        "cpu_p50_ms": statistics.median(cpu),
        "first_ms": first,
    }


def frame(messages) -> pd.DataFrame:
    """The parsed messages as one DataFrame, the way chat-analysis scripts start."""
    return pd.DataFrame(
        {
            "message_id": [m.message_id for m in messages],
            "seq": [m.seq for m in messages],
            "chat": [m.chat for m in messages],
            "sender": [m.sender for m in messages],
            "kind": [m.kind for m in messages],
            "sent_at": [m.sent_at for m in messages],
            "text": [m.text for m in messages],
            "reply_to": [m.reply_to for m in messages],
            "edited": [m.edited for m in messages],
            "deleted": [m.deleted for m in messages],
            "attachments": [len(m.attachments) for m in messages],
        }
    )


def pandas_reports(df: pd.DataFrame) -> dict[str, Callable[[], object]]:
    """The same reports in pandas: columns derived per call, as a script over the export does."""

    def authored() -> pd.DataFrame:
        own = df[~df["kind"].isin(["system", "service"])].copy()
        own["t"] = own["sent_at"].dt.tz_convert(ZONE)
        own["day"] = own["t"].dt.date
        own["words"] = own["text"].str.split().str.len()
        own["chars"] = own["text"].str.len()
        own["link"] = own["text"].str.contains(r"\b(?:https?://|www\.)\S", case=False)
        own["media"] = (own["kind"] == "media") | (own["attachments"] > 0)
        return own

    def overview():
        own = authored()
        days = pd.Series(sorted(own["day"].unique()))
        streak = (pd.to_datetime(days).diff().dt.days != 1).cumsum().value_counts().max()
        times = own["sent_at"].sort_values()
        return {
            "messages": len(own),
            "words": int(own["words"].sum()),
            "participants": own["sender"].nunique(),
            "chats": own["chat"].nunique(),
            "active_days": len(days),
            "busiest_day": own["day"].value_counts().idxmax(),
            "busiest_hour": own["t"].dt.hour.value_counts().idxmax(),
            "busiest_weekday": own["t"].dt.dayofweek.value_counts().idxmax(),
            "busiest_month": own["t"].dt.strftime("%Y-%m").value_counts().idxmax(),
            "streak": int(streak),
            "silence": times.diff().max(),
            "media": int(own["media"].sum()),
            "links": int(own["link"].sum()),
            "edited": int(own["edited"].sum()),
            "deleted": int(own["deleted"].sum()),
        }

    def activity():
        own = authored()
        week = own["t"].dt.tz_localize(None).dt.to_period("W").dt.start_time
        top = own["sender"].value_counts().index[:10]
        key = own["sender"].where(own["sender"].isin(top), "(other)")
        series = own.groupby([week, key]).size()
        heatmap = (
            own.groupby([own["t"].dt.dayofweek, own["t"].dt.hour]).size().unstack(fill_value=0)
        )
        lengths = pd.cut(
            own["chars"], [-1, 0, 10, 20, 50, 100, 200, 500, 1000, np.inf]
        ).value_counts()
        return series, heatmap, lengths

    def people():
        own = authored().sort_values(["chat", "sent_at", "seq", "message_id"])
        base = own.groupby("sender").agg(
            messages=("message_id", "size"),
            words=("words", "sum"),
            average_length=("chars", "mean"),
            media=("media", "sum"),
            links=("link", "sum"),
            first_seen=("sent_at", "min"),
            last_seen=("sent_at", "max"),
            active_days=("day", "nunique"),
        )
        base["emoji"] = own.groupby("sender")["text"].apply(
            lambda texts: sum(emoji.emoji_count(text) for text in texts)
        )
        base["share"] = base["messages"] / len(own)
        gap = own.groupby("chat")["sent_at"].diff()
        session = (gap.isna() | (gap > GAP)).groupby(own["chat"]).cumsum()
        grouped = own.groupby([own["chat"], session])
        base["started"] = grouped["sender"].first().value_counts()
        base["ended"] = grouped["sender"].last().value_counts()
        previous = own.groupby("chat")["sender"].shift()
        answer = (~(gap.isna() | (gap > GAP))) & (previous != own["sender"])
        base["median_response"] = (
            gap[answer].dt.total_seconds().groupby(own["sender"][answer]).median()
        )
        replies = own.merge(
            own[["message_id", "sender"]],
            left_on="reply_to",
            right_on="message_id",
            suffixes=("", "_target"),
        )
        base["replies_given"] = replies["sender"].value_counts()
        base["replies_received"] = replies["sender_target"].value_counts()
        return base

    def calendar():
        own = authored()
        year = own["t"].dt.year
        latest = own[year == year.max()]
        days = latest.groupby("day").size()
        return {
            "days": days,
            "total": int(days.sum()),
            "max": int(days.max()),
            "years": sorted(year.unique()),
        }

    return {"overview": overview, "activity": activity, "calendar": calendar, "people": people}


def process_status(pid: int) -> tuple[float, float]:
    """A process's resident memory (GiB) and CPU time used so far (seconds)."""
    with open(f"/proc/{pid}/status") as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 2**20
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return rss, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_gateway(layout: Layout, reports: dict, repeats: int) -> dict:
    """``GET /api/v1/collections/{id}/analytics/<report>`` through the whole stack: the gateway
    checks the token and the collection, asks the index over RabbitMQ (RPC), and answers JSON.

    The collection is copied into the stack's index folder, and the gateway's record of it is
    set to its version (what a finished ingest job sets): no job went through this stack."""
    import sqlite3

    import requests

    from chatlens.cli.client import Client
    from chatlens.cli.stack import Stack, StackConfig

    sys.path.insert(0, str(ROOT / "bench"))
    from ingest_bench import _drop_vhost, _vhost

    state = OUT / "analytics-stack"
    shutil.rmtree(state, ignore_errors=True)
    vhost = _vhost()
    # Nine ports from here (the services and their health ports); not CHATLENS_E2E_PORT, one
    # port that its neighbours' stacks may hold the next ones of.
    port = int(os.environ.get("ANALYTICS_BENCH_PORT", "19300"))
    stack = Stack(
        StackConfig(
            root=ROOT,
            state=state,
            base_port=port,
            nginx_port=port + 80,
            nginx=False,
            services=("auth", "index", "gateway"),
            # No embedding worker or inference service here.
            extra_env={"RATE_LIMIT_SCALE": "1000", "READY_REQUIRES_SERVICES": "false"},
            amqp_url=f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
        )
    )
    try:
        print("  gateway: starting the stack …", flush=True)
        stack.up(wait_s=600)
        client = Client(stack.config.gateway_url)
        email = f"bench-{os.getpid()}-{time.time_ns() % 10**8}@example.com"
        client.register(email, "bench-password-long-enough")
        client.login(email, "bench-password-long-enough")
        org_id = client.me()["org"]["id"]
        collection = client.create_collection("analytics bench")
        target = state / "data" / "index" / "collections" / org_id / collection["id"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(layout.collection("bench", "c1"), target, symlinks=True)
        version = Collection(target).manifest().version
        with sqlite3.connect(state / "data" / "gateway" / "gateway.db") as db:
            db.execute(
                "UPDATE collections SET version = ? WHERE id = ?", (version, collection["id"])
            )
        http = requests.Session()
        base = f"{stack.config.gateway_url}/api/v1/collections/{collection['id']}/analytics"

        def ask(report: str) -> dict:
            response = http.get(
                f"{base}/{report}",
                params={"timezone": ZONE, **reports[report]},
                headers={"Authorization": f"Bearer {client.token}"},
                timeout=120,
            )
            response.raise_for_status()
            return response.json()

        index_pid = stack.service_pid("index")
        rss_before, _ = process_status(index_pid)
        # The first report loads the segment into the index service (longer than the gateway
        # waits for an RPC at 1M: it answers 503/504 until the segment is in memory).
        started, deadline = time.perf_counter(), time.monotonic() + 900
        while True:
            try:
                ask("overview")
                break
            except requests.HTTPError as exc:
                if exc.response.status_code not in (503, 504) or time.monotonic() > deadline:
                    raise
        load_s = time.perf_counter() - started
        rss_loaded, _ = process_status(index_pid)
        out: dict = {
            "index_first_answer_s": load_s,
            "index_rss_gib_before": rss_before,
            "index_rss_gib_loaded": rss_loaded,
            "reports": {},
        }
        print(
            f"  gateway: the index service answered first after {load_s:.1f} s (segment "
            f"loaded; resident {rss_before:.2f} -> {rss_loaded:.2f} GiB)",
            flush=True,
        )
        for report in reports:
            ask(report)  # its frame is prepared once per version (shared by these four)
            times, cpu = [], []
            for _ in range(repeats):
                _, used = process_status(index_pid)
                started = time.perf_counter()
                ask(report)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((process_status(index_pid)[1] - used) * 1000)
            times.sort()
            out["reports"][report] = {
                "p50_ms": statistics.median(times),
                "p99_ms": times[min(len(times) - 1, round(0.99 * (len(times) - 1)))],
                "index_cpu_p50_ms": statistics.median(cpu),
            }
        out["index_rss_gib_after"] = process_status(index_pid)[0]
        return out
    finally:
        stack.down()
        _drop_vhost(vhost)
        shutil.rmtree(state / "data", ignore_errors=True)  # the copied collection; logs stay


def run_size(
    size: int,
    repeats: int,
    gateway: bool = False,
    gateway_repeats: int = 30,
    pandas: bool = True,
    pandas_repeats: int = 3,
) -> dict:
    print(f"{size:,} messages")
    layout, messages = corpus(size, keep_messages=pandas)
    df = frame(messages) if messages is not None else None
    del messages  # the index reads its own copy from disk
    rss = resident_gib()
    analytics = Analytics(ManifestReader(layout), SegmentCache(4))
    started = time.perf_counter()
    analytics.answer(AnalyticsRequested(org_id="bench", collection_id="c1", report="overview"))
    load_s = time.perf_counter() - started
    print(
        f"  the index loaded the segment in {load_s:.1f} s "
        f"(+{resident_gib() - rss:.2f} GiB resident)"
    )
    # Read as the index reads it (an older layout upgraded), and prepared once, as the index
    # keeps a version's frame (not timed on either side).
    columns = segment_columns(layout)
    with_text = prepare(columns, ZONE)
    direct_table = prepare(columns.select(live_fields), ZONE)
    in_pandas = pandas_reports(df) if df is not None else {}
    figures: dict = {"messages": size, "index_load_s": load_s, "reports": {}}
    for report, options in REPORTS.items():
        request = AnalyticsRequested(
            org_id="bench", collection_id="c1", report=report, timezone=ZONE, **options
        )

        def direct(request=request):
            with sql.connect(direct_table, request.gap_minutes) as con:
                return analytics_service.run(con, request, direct_table)

        row = {
            "index": timed(lambda request=request: analytics.answer(request), repeats),
            "duckdb": timed(direct, repeats),
            "pandas": timed(in_pandas[report], pandas_repeats)
            if pandas
            else {"p50_ms": float("nan"), "cpu_p50_ms": float("nan")},
        }
        row["index_vs_duckdb"] = row["index"]["p50_ms"] / row["duckdb"]["p50_ms"]
        row["pandas_vs_index"] = row["pandas"]["p50_ms"] / row["index"]["p50_ms"]
        figures["reports"][report] = row
        print(
            f"  {report:9} index p50 {row['index']['p50_ms']:7.1f} ms p99 "
            f"{row['index']['p99_ms']:7.1f} cpu {row['index']['cpu_p50_ms']:6.1f} (first "
            f"{row['index']['first_ms']:6.0f}) | duckdb direct p50 "
            f"{row['duckdb']['p50_ms']:7.1f} cpu {row['duckdb']['cpu_p50_ms']:6.1f} "
            f"({row['index_vs_duckdb']:.2f}x) | pandas p50 {row['pandas']['p50_ms']:8.1f}"
            f" ms (index {row['pandas_vs_index']:.1f}x faster)"
        )
    total = {
        name: sum(r[name]["p50_ms"] for r in figures["reports"].values())
        for name in ("index", "duckdb", "pandas")
    }
    for report, options in LATER.items():
        request = AnalyticsRequested(
            org_id="bench", collection_id="c1", report=report, timezone=ZONE, **options
        )

        def direct_text(request=request):
            with sql.connect(with_text, request.gap_minutes) as con:
                return analytics_service.run(con, request, with_text)

        few = max(3, repeats // 5)
        row = {
            "index": timed(lambda request=request: analytics.answer(request), few),
            "duckdb": timed(direct_text, few),
        }
        row["index_vs_duckdb"] = row["index"]["p50_ms"] / row["duckdb"]["p50_ms"]
        figures["later"] = {**figures.get("later", {}), report: row}
        print(
            f"  {report:11} index p50 {row['index']['p50_ms']:7.1f} ms p99 "
            f"{row['index']['p99_ms']:7.1f} cpu {row['index']['cpu_p50_ms']:6.1f} (first "
            f"{row['index']['first_ms']:6.0f}) | duckdb direct p50 "
            f"{row['duckdb']['p50_ms']:7.1f} cpu {row['duckdb']['cpu_p50_ms']:6.1f} "
            f"({row['index_vs_duckdb']:.2f}x)"
        )
    if gateway:
        # Last: the stack competes with this process for the two cores.
        through = measure_gateway(layout, REPORTS, gateway_repeats)
        figures["gateway"] = through
        for report, row in through["reports"].items():
            direct, pandas = (
                figures["reports"][report][name]["p50_ms"] for name in ("duckdb", "pandas")
            )
            row["gateway_vs_duckdb"] = row["p50_ms"] / direct
            row["pandas_vs_gateway"] = pandas / row["p50_ms"]
            print(
                f"  {report:9} gateway p50 {row['p50_ms']:7.1f} ms p99 {row['p99_ms']:7.1f} "
                f"(index cpu {row['index_cpu_p50_ms']:6.1f}) | {row['gateway_vs_duckdb']:.2f}x "
                f"duckdb direct | pandas {row['pandas_vs_gateway']:.1f}x slower"
            )
        total["gateway"] = sum(r["p50_ms"] for r in through["reports"].values())
    figures["all_reports_p50_ms"] = total
    print(
        f"  all four   index {total['index']:.0f} ms | duckdb {total['duckdb']:.0f} ms | "
        f"pandas {total['pandas']:.0f} ms"
        + (f" | gateway {total['gateway']:.0f} ms" if "gateway" in total else "")
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument(
        "--gateway-sizes",
        default="100000,1000000",
        help="sizes also measured through the gateway ('' for none)",
    )
    parser.add_argument("--gateway-repeats", type=int, default=30)
    parser.add_argument(
        "--no-pandas",
        dest="pandas",
        action="store_false",
        help="skip pandas (minutes at 1M): the index, DuckDB and gateway only",
    )
    parser.add_argument(
        "--pandas-repeats",
        type=int,
        default=3,
        help="pandas calls timed per report after the first (each is a minute or more at 1M)",
    )
    args = parser.parse_args()
    through = {int(size) for size in args.gateway_sizes.split(",") if size}
    results = [
        run_size(
            int(size),
            args.repeats,
            int(size) in through,
            args.gateway_repeats,
            args.pandas,
            args.pandas_repeats,
        )
        for size in args.sizes.split(",")
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    (OUT / "analytics.json").write_text(
        json.dumps({"sizes": results, "peak_rss_gib": peak}, indent=1, default=str)
    )
    print(f"wrote {OUT / 'analytics.json'}")


if __name__ == "__main__":
    main()
