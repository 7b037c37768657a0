"""Parse an export end to end (both passes) and report time and peak memory.

    python parse_memory.py FILE [--format auto] [--tracemalloc]

Peak RSS (``resource.getrusage``) covers the interpreter and libraries too; with
``--tracemalloc`` the peak of Python allocations during the parse alone is reported (slower).
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
from pathlib import Path

from chatlens.embedding_worker.parsing import parse_any


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", type=Path)
    parser.add_argument("--format", default="auto")
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if args.tracemalloc:
        tracemalloc.start()
    started = time.perf_counter()
    result = parse_any(args.path, format=args.format)
    first_pass = time.perf_counter() - started
    count = sum(1 for _ in result.messages)
    seconds = time.perf_counter() - started
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    size = args.path.stat().st_size / 2**20
    print(
        f"{args.path.name}: {size:.1f} MiB, format {result.format}, {count} messages, "
        f"{seconds:.1f} s ({first_pass:.1f} s first pass), {count / seconds:.0f} msg/s"
    )
    print(f"peak RSS {peak_rss / 1024:.1f} MiB (before parsing {before / 1024:.1f} MiB)")
    if args.tracemalloc:
        _, peak = tracemalloc.get_traced_memory()
        print(f"tracemalloc peak during the parse: {peak / 2**20:.2f} MiB")


if __name__ == "__main__":
    main()
