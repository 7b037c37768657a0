"""Analytics reports timed in-process on one prepared frame: the focused companion of
``analytics_bench.py`` for the reports that are not on its dashboard path.

    python bench/analytics_reports.py [--size 1000000]
        [--reports interaction,conversations,language]
        [--repeats 5]

The generated history (``services/index/tests/analytics_data``, as ``analytics_bench.py`` makes
it) is turned into the segment columns once (``storage.columns.table_of``, without language
detection: at 1M that is minutes of the ingest writer and changes no report's cost) and kept in
``var/bench/analytics-frames/<size>.parquet`` for the next run. The frame is prepared once, as
the index keeps a version's frame (``first_ms`` of ``prepare`` is printed: what the first report
on a new version pays), then each report runs ``repeats`` times over it exactly as the index's RPC
does (``sql.connect`` and ``service.run``). Wall and CPU time per call (p50; CPU is the process's,
DuckDB's threads included, the steadier figure on a shared machine). Writes
``var/bench/analytics-reports.json``; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "services" / "index" / "tests"))

from analytics_data import generate  # noqa: E402

from chatlens.index.analytics import service as analytics_service  # noqa: E402
from chatlens.index.analytics import sql  # noqa: E402
from chatlens.index.analytics.prepared import prepare  # noqa: E402
from chatlens.index.storage.columns import table_of  # noqa: E402
from chatlens.shared.schemas import AnalyticsRequested  # noqa: E402

OUT = ROOT / "var" / "bench"
ZONE = "Europe/Lisbon"
DATA = "v2"  # as analytics_bench.DATA: bumped when analytics_data changes


def columns(size: int):
    """The segment columns of ``size`` generated messages, built once and kept."""
    path = OUT / "analytics-frames" / f"{size}-{DATA}.parquet"
    if not path.exists():
        started = time.perf_counter()
        table = table_of(generate(size, seed=size))
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, compression="zstd")
        print(f"  built {size:,} messages' columns in {time.perf_counter() - started:.0f} s")
    return pq.read_table(path, memory_map=True)


def timed(call, repeats: int) -> dict:
    times, cpu = [], []
    for _ in range(repeats):
        started, used = time.perf_counter(), time.process_time()
        call()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - used) * 1000)
    return {
        "p50_ms": statistics.median(times),
        "cpu_p50_ms": statistics.median(cpu),
        "min_ms": min(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--reports", default="interaction,conversations,language")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    table = columns(args.size)
    figures: dict = {"messages": args.size, "reports": {}}
    started, used = time.perf_counter(), time.process_time()
    frame = prepare(table, ZONE)
    figures["prepare"] = {
        "ms": (time.perf_counter() - started) * 1000,
        "cpu_ms": (time.process_time() - used) * 1000,
    }
    print(
        f"{args.size:,} messages: prepared in {figures['prepare']['ms']:.0f} ms "
        f"(cpu {figures['prepare']['cpu_ms']:.0f})"
    )
    for report in args.reports.split(","):
        request = AnalyticsRequested(
            org_id="bench", collection_id="c1", report=report, timezone=ZONE
        )

        def call(request=request):
            with sql.connect(frame, request.gap_minutes) as con:
                return analytics_service.run(con, request, frame)

        call()  # DuckDB's first plan
        row = timed(call, args.repeats)
        figures["reports"][report] = row
        print(
            f"  {report:13} p50 {row['p50_ms']:7.0f} ms  cpu p50 {row['cpu_p50_ms']:7.0f} ms"
            f"  (min {row['min_ms']:.0f})",
            flush=True,
        )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "analytics-reports.json").write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
