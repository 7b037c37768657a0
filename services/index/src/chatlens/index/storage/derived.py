"""What a load derives for a segment of an older layout, kept between loads.

    INDEX_DIR/cache/columns/<sha256>-<layout>.parquet   columns (``storage.columns``)
    INDEX_DIR/cache/hubness/<sha256>.npy                hubness (``storage.hubness``)

A committed segment folder is never modified, so what a load derives for an older segment (the
columns added since it was written, the hubness of a segment sealed before that file) is kept
here, outside the collection's repository, named by the SHA-256 of the file it was derived from:
a file that changed (a purge rewrote it) can never be read back as another's. Everything here
may be deleted at any time; it is derived again as segments are loaded. A failed write is
logged: the load still answers what it derived.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from chatlens.index.storage import atomic

log = logging.getLogger(__name__)


def kept(cache: Path, source: Path, suffix: str) -> Path:
    """Where what was derived from ``source`` is kept in ``cache`` (a folder of one kind)."""
    with source.open("rb") as handle:
        return cache / f"{hashlib.file_digest(handle, 'sha256').hexdigest()}{suffix}"


def keep(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(path, data)
    except OSError as exc:
        log.warning("could not keep what was derived", extra={"path": str(path), "error": str(exc)})
