"""Where an export's bytes come from: a file, or one entry of a zip archive, opened afresh per pass.

Archives are read through :mod:`chatlens.shared.archives` (checked structure, decompressed bytes
counted while streaming); its refusals become :class:`NotAChatExport` with the entry's name.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from chatlens.embedding_worker.errors import NotAChatExport
from chatlens.shared.archives import ArchiveLimits, ArchiveRefused, EntryInfo, SafeZip


@dataclass(frozen=True)
class Source:
    """One readable export: ``path`` on disk, or the entry ``entry`` inside the zip at ``path``."""

    path: Path
    entry: str | None = None
    limits: ArchiveLimits | None = None

    @property
    def label(self) -> str:
        return f"{self.path.name}:{self.entry}" if self.entry else self.path.name

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        if self.entry is None:
            with self.path.open("rb") as handle:
                yield handle
            return
        with open_archive(self.path, self.limits) as archive:
            try:
                stream = archive.open(self.entry)
            except KeyError:
                raise NotAChatExport(
                    f"the archive has no entry {self.entry!r}", reason="missing_entry"
                ) from None
            with refusals_as_errors(), stream:
                yield stream

    def sibling(self, entry: str) -> Source:
        """Another entry of the same archive."""
        return Source(self.path, entry, self.limits)


@contextmanager
def refusals_as_errors() -> Iterator[None]:
    """An archive refusal (bomb, traversal, encryption...) as a :class:`NotAChatExport`."""
    try:
        yield
    except ArchiveRefused as exc:
        raise NotAChatExport(exc.message, reason=exc.code, location=exc.entry) from None


@contextmanager
def open_archive(path: Path, limits: ArchiveLimits | None = None) -> Iterator[SafeZip]:
    with refusals_as_errors():
        archive = SafeZip(path, limits)
    with archive:
        yield archive


def file_entries(path: Path, limits: ArchiveLimits | None = None) -> list[EntryInfo]:
    """The checked file entries of an archive (directories left out)."""
    with open_archive(path, limits) as archive:
        return [entry for entry in archive.entries if not entry.is_dir]
