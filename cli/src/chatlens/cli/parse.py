"""``chatlens parse FILE``: what an import of FILE will do, without a server.

The normalised messages go to stdout as JSON lines, the diagnostics (format detected, counts,
the lines left out and why) to stderr, so ``chatlens parse chat.txt > messages.jsonl`` keeps
them apart. The parsers are the embedding worker's own, so what this prints is exactly what an
upload produces.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO


def run_parse(path: Path, fmt: str = "auto", timezone: str | None = None, *,
              out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    # The CLI is a client tool, not a service, so it may import the embedding worker's parsers
    # (the rule that services never import one another is about services). Imported here, not at
    # the top, so the rest of the CLI works where the worker is not installed.
    try:
        from chatlens.embedding_worker.parsing import NotAChatExport, UnsupportedFormat, parse_any
        from chatlens.shared.archives import ArchiveRefused
    except ImportError as exc:
        print(f"error: chatlens parse needs the embedding worker's parsers "
              f"(pip install -e services/embedding-worker): {exc}", file=err)
        return 2
    try:
        result = parse_any(path, format=fmt, timezone=timezone, source_file=path.name)
        for message in result.messages:
            out.write(message.model_dump_json())
            out.write("\n")
    except (NotAChatExport, UnsupportedFormat, ArchiveRefused) as exc:
        print(f"error: {path.name}: {getattr(exc, 'code', 'parse_failed')}: {exc}", file=err)
        return 1
    print_diagnostics(result.diagnostics.as_stats(), err)
    return 0


def print_diagnostics(stats: dict, err: TextIO) -> None:
    """A readable summary, then the same stats as one JSON line (what the job's stats hold)."""
    variant = f" ({stats['variant']})" if stats.get("variant") else ""
    print(f"format: {stats.get('format')}{variant}", file=err)
    print(f"messages: {stats.get('messages', 0)}, system events: {stats.get('system_events', 0)}, "
          f"chats: {stats.get('chats', 0)}, time zone: {stats.get('tz_assumption')}", file=err)
    skipped = stats.get("skipped_lines", 0)
    print(f"could not parse: {skipped}", file=err)
    for example in stats.get("skipped_examples", []):
        where = (f"line {example['line']}" if "line" in example
                 else example.get("path", "?"))
        print(f"  {where}: {example.get('reason')}", file=err)
    if skipped > len(stats.get("skipped_examples", [])):
        print(f"  … and {skipped - len(stats['skipped_examples'])} more", file=err)
    print(json.dumps({"diagnostics": stats}, ensure_ascii=False, default=str), file=err)
