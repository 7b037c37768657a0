"""``chatlens parse FILE…``: what an import of the files will do, without a server.

The normalised messages go to stdout as JSON lines, the diagnostics (format detected, counts,
the lines left out and why) to stderr, so ``chatlens parse chat.txt > messages.jsonl`` keeps
them apart. The parsers are the embedding worker's own, so what this prints is exactly what an
upload produces. Several files (the parts of one export, or exports that overlap) are read in
turn and a message is printed once, as an upload of them all to one collection keeps it once.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO


def run_parse(
    paths: Path | list[Path],
    fmt: str = "auto",
    timezone: str | None = None,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Parse each file in turn (the parts of one export, or overlapping exports) and print each
    message once: one whose id an earlier file already gave is left out, as an upload to the
    same collection would leave it out. 1 when a file cannot be read (the others still are)."""
    out, err = out or sys.stdout, err or sys.stderr
    files = [paths] if isinstance(paths, Path) else list(paths)
    # The CLI is a client tool, not a service, so it may import the embedding worker's parsers
    # (the rule that services never import one another is about services). Imported here, not at
    # the top, so the rest of the CLI works where the worker is not installed.
    try:
        from chatlens.embedding_worker.parsing import NotAChatExport, UnsupportedFormat, parse_any
        from chatlens.shared.archives import ArchiveRefused
    except ImportError as exc:
        print(
            f"error: chatlens parse needs the embedding worker's parsers "
            f"(pip install -e services/embedding-worker): {exc}",
            file=err,
        )
        return 2
    seen: set[str] = set()
    failed = printed = duplicates = 0
    for path in files:
        if len(files) > 1:
            print(f"== {path.name}", file=err)
        repeated = 0
        try:
            result = parse_any(path, format=fmt, timezone=timezone, source_file=path.name)
            for message in result.messages:
                if message.message_id in seen:
                    repeated += 1
                    continue
                seen.add(message.message_id)
                out.write(message.model_dump_json())
                out.write("\n")
                printed += 1
        except (NotAChatExport, UnsupportedFormat, ArchiveRefused) as exc:
            print(f"error: {path.name}: {getattr(exc, 'code', 'parse_failed')}: {exc}", file=err)
            failed += 1
            continue
        stats = result.diagnostics.as_stats()
        if len(files) > 1:
            stats = {"file": path.name, **stats, "duplicates": repeated}
        print_diagnostics(stats, err)
        duplicates += repeated
    if len(files) > 1:
        print(
            f"total: {printed} messages from {len(files) - failed} of {len(files)} files, "
            f"{duplicates} already read from an earlier file",
            file=err,
        )
    return 1 if failed else 0


def print_diagnostics(stats: dict, err: TextIO) -> None:
    """A readable summary, then the same stats as one JSON line (what the job's stats hold)."""
    variant = f" ({stats['variant']})" if stats.get("variant") else ""
    print(f"format: {stats.get('format')}{variant}", file=err)
    print(
        f"messages: {stats.get('messages', 0)}, system events: {stats.get('system_events', 0)}, "
        f"chats: {stats.get('chats', 0)}, time zone: {stats.get('tz_assumption')}",
        file=err,
    )
    skipped = stats.get("skipped_lines", 0)
    print(f"could not parse: {skipped}", file=err)
    for example in stats.get("skipped_examples", []):
        where = f"line {example['line']}" if "line" in example else example.get("path", "?")
        print(f"  {where}: {example.get('reason')}", file=err)
    if skipped > len(stats.get("skipped_examples", [])):
        print(f"  … and {skipped - len(stats['skipped_examples'])} more", file=err)
    print(json.dumps({"diagnostics": stats}, ensure_ascii=False, default=str), file=err)
