"""Analytics reports timed in-process on one prepared frame: the focused companion of
``analytics_bench.py`` for the reports that are not on its dashboard path.

    python bench/analytics_reports.py [--size 1000000]
        [--reports interaction,conversations,language]
        [--repeats 5]

The corpus is ``analytics_bench.py``'s: the generated history written once as a collection
through the index's storage code and kept in ``var/bench/analytics`` (at 1M, minutes: the
ingest-time columns, language and sentiment included); its segment's columns are read as the
index reads them. The frame is prepared once, as the index keeps a version's frame (``prepare``'s
time is printed: what the first report on a new version pays), then each report runs ``repeats``
times over it exactly as the index's RPC does (``sql.connect`` and ``service.run``; the language
report counts its tallies afresh on each call there, what its first request on a selection
pays). ``language (kept)`` is the language report's later requests, answered from the kept
tallies as ``Analytics`` answers them. Wall and CPU time per call (p50; CPU is the process's,
DuckDB's threads included, the steadier figure on a shared machine). Writes
``var/bench/analytics-reports.json``; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from analytics_bench import OUT, ZONE, corpus, segment_columns, timed  # noqa: E402

from chatlens.index.analytics import (
    language,  # noqa: E402
    sql,  # noqa: E402
)
from chatlens.index.analytics import service as analytics_service  # noqa: E402
from chatlens.index.analytics.prepared import prepare  # noqa: E402
from chatlens.shared.schemas import AnalyticsRequested  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--reports", default="interaction,conversations,language")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{args.size:,} messages")
    table = segment_columns(corpus(args.size)[0])
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

        calls = {report: call}
        if report == "language":
            kept = language.tallies(frame)
            calls["language (kept)"] = lambda kept=kept, top=request.top: language.language(
                kept, top, []
            )
        for name, timing in calls.items():
            row = timed(timing, args.repeats)  # after one call: DuckDB's first plan
            figures["reports"][name] = row
            print(
                f"  {name:15} p50 {row['p50_ms']:7.0f} ms  cpu p50 {row['cpu_p50_ms']:7.0f} ms"
                f"  (p99 {row['p99_ms']:.0f})",
                flush=True,
            )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "analytics-reports.json").write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
