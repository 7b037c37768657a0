"""Safe reading of zip archives that users upload: checked before use, counted while read.

Python 3.11's ``zipfile`` trusts the sizes an archive declares and does not notice entries whose
compressed data overlap (the "overlapping entries" bomb, where a few kilobytes expand to
gigabytes), and it happily hands out names like ``../../etc/passwd``. So every archive goes
through two gates here:

1. **Structure** (:func:`check_zip`, cheap, no decompression): entry count, names (traversal,
   absolute paths, drive letters, backslashes), symlinks, encryption, duplicate names, and the
   byte range of each entry's local header + compressed data, which must not overlap another's
   and must end before the central directory.
2. **Content** (:func:`open_entry`): every byte decompressed is counted against the archive's
   total budget and the entry's ratio limit, *as it is produced*, whatever the sizes claim.

:func:`inspect` runs both over a whole archive (nested zips included) and is what the gateway
calls at upload time; :class:`SafeZip` is what a parser uses to read entries one by one.
Every refusal is an :class:`ArchiveRefused` with a stable ``code`` and the entry's name.
"""

from __future__ import annotations

import io
import re
import shutil
import stat
import struct
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any, BinaryIO

# Local file header: signature, versions, flags, method, time, date, crc, sizes, name/extra length.
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_CENTRAL_HEADER = struct.Struct("<4s4B4HL2L5H2L")  # a central directory entry, up to its name
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    """What an archive may cost. The defaults suit chat exports (text plus some media); they are
    the defaults of the ``ARCHIVE_*`` settings (``chatlens.shared.settings.ArchiveSettings``)."""

    # A Slack workspace export is one file per channel per day: a large one holds tens of
    # thousands. Checking an archive's structure costs about 2 KB of memory per entry.
    max_entries: int = 100_000
    # Decompressed bytes of all entries together, nested archives included.
    max_total_bytes: int = 2 * 1024**3
    # Decompressed/compressed bytes of one entry; text compresses about 5-10x, bombs 1000x+.
    max_ratio: float = 200.0
    # The ratio is only judged past this many decompressed bytes: a small file of repeated
    # characters compresses absurdly well and is harmless.
    ratio_min_bytes: int = 1024 * 1024
    # How deep zips may sit inside zips: 0 refuses any nested archive.
    max_depth: int = 2


class ArchiveRefused(ValueError):
    """An archive that will not be read. ``code`` is stable; ``entry`` names the culprit."""

    def __init__(self, code: str, message: str, entry: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.entry = entry


@dataclass(frozen=True)
class EntryInfo:
    """One checked entry. ``name`` is its normalised path inside its own archive; ``parents``
    are the names of the archive entries it sits in, outermost first (empty at the top)."""

    name: str
    size: int
    compressed_size: int
    is_dir: bool
    parents: tuple[str, ...] = ()
    zipinfo: zipfile.ZipInfo | None = field(default=None, compare=False, repr=False)

    @property
    def path(self) -> str:
        """The entry's full path for messages, nested archives joined with ``/``."""
        return "/".join((*self.parents, self.name))

    @property
    def is_archive(self) -> bool:
        return not self.is_dir and self.name.lower().endswith(".zip")


@dataclass
class Budget:
    """Decompressed bytes counted across every entry read from one archive (and its nested ones)."""

    limit: int
    used: int = 0

    def spend(self, n: int, entry: str) -> None:
        self.used += n
        if self.used > self.limit:
            raise ArchiveRefused(
                "archive_too_large",
                f"archive expands past {self.limit} bytes (at entry {entry!r})",
                entry,
            )


def _refusal(code: str, entry: str, what: str) -> ArchiveRefused:
    return ArchiveRefused(code, f"entry {entry!r} {what}", entry)


def normalise_name(raw: str, display: str | None = None) -> str:
    """The entry name as a safe relative POSIX path, or :class:`ArchiveRefused`."""
    shown = display or raw
    if "\\" in raw:
        raise _refusal("archive_unsafe_name", shown, "has a backslash in its name")
    if any(ord(c) < 32 for c in raw):
        raise _refusal("archive_unsafe_name", shown, "has a control character in its name")
    if raw.startswith("/") or _DRIVE.match(raw):
        raise _refusal("archive_absolute_path", shown, "has an absolute path")
    parts = [p for p in PurePosixPath(raw).parts if p != "."]
    if ".." in parts:
        raise _refusal("archive_path_traversal", shown, "points outside the archive")
    if not parts:
        raise _refusal("archive_unsafe_name", shown, "has an empty name")
    return "/".join(parts)


def safe_extract_path(root: Path, name: str) -> Path:
    """Where entry ``name`` may be written under ``root``; never a path outside it."""
    relative = normalise_name(name)
    root = root.resolve()
    target = (root / relative).resolve()
    # resolve() follows symlinks already on disk: a link planted under root cannot lead out.
    if not target.is_relative_to(root) or target == root:
        raise _refusal("archive_path_traversal", name, "points outside the archive")
    return target


def _local_range(fp: IO[bytes], info: zipfile.ZipInfo, shown: str) -> tuple[int, int]:
    """[start, end) of the entry's local header and compressed data, read from the header itself."""
    fp.seek(info.header_offset)
    header = fp.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != _LOCAL_SIGNATURE:
        raise _refusal("archive_corrupt", shown, "has no valid local header")
    fields = _LOCAL_HEADER.unpack(header)
    data_start = info.header_offset + _LOCAL_HEADER.size + fields[9] + fields[10]
    return info.header_offset, data_start + info.compress_size


def count_entries(fp: BinaryIO, limit: int) -> int | None:
    """The entries in an archive's central directory, counted up to ``limit + 1`` by hopping from
    header to header, before ``zipfile`` builds an object per entry (a few hundred bytes each: a
    200 MiB archive of empty entries would cost gigabytes before its count could be judged).
    None when the directory cannot be found; ``zipfile`` then says why."""
    # zipfile's own reader of the end record: stable since Python 2, and zip64-aware.
    end = zipfile._EndRecData(fp)  # type: ignore[attr-defined]
    if end is None:
        return None
    size = end[zipfile._ECD_SIZE]  # type: ignore[attr-defined]
    start = end[zipfile._ECD_LOCATION] - size  # type: ignore[attr-defined]
    if end[zipfile._ECD_SIGNATURE] == zipfile.stringEndArchive64:  # type: ignore[attr-defined]
        start -= zipfile.sizeEndCentDir64 + zipfile.sizeEndCentDir64Locator  # type: ignore
    count, position = 0, start
    fp.seek(start)
    # Sequential reads (no seek per entry), so a buffered file reads the directory in blocks.
    while count <= limit and position + _CENTRAL_HEADER.size <= start + size:
        header = fp.read(_CENTRAL_HEADER.size)
        if len(header) < _CENTRAL_HEADER.size or header[:4] != _CENTRAL_SIGNATURE:
            break
        name_length, extra_length, comment_length = _CENTRAL_HEADER.unpack(header)[12:15]
        variable = name_length + extra_length + comment_length
        fp.read(variable)
        position += _CENTRAL_HEADER.size + variable
        count += 1
    return count


def _precount(source: Path | str | BinaryIO, limit: int) -> int | None:
    """:func:`count_entries` of a path or an open file (left at its start); None if unreadable."""
    try:
        if isinstance(source, (str, Path)):
            with open(source, "rb") as fp:
                return count_entries(fp, limit)
        try:
            return count_entries(source, limit)
        finally:
            source.seek(0)
    except (OSError, ValueError, struct.error):
        return None  # zipfile, next, says what is wrong with it


def _refuse_too_many(count: int | None, limits: ArchiveLimits, parents: tuple[str, ...]) -> None:
    if count is not None and count > limits.max_entries:
        prefix = "/".join(parents) + "/" if parents else ""
        raise ArchiveRefused(
            "archive_too_many_entries",
            f"archive {prefix}has more than {limits.max_entries} entries, the limit",
            parents[-1] if parents else None,
        )


def check_zip(
    zf: zipfile.ZipFile, limits: ArchiveLimits, parents: tuple[str, ...] = ()
) -> list[EntryInfo]:
    """Structural checks of an open archive (no decompression); the checked entries, in order."""
    infos = zf.infolist()
    prefix = "/".join(parents) + "/" if parents else ""
    _refuse_too_many(len(infos), limits, parents)
    entries: list[EntryInfo] = []
    seen: set[str] = set()
    ranges: list[tuple[int, int, str]] = []
    fp = zf.fp
    assert fp is not None, "check_zip needs an open archive"
    for info in infos:
        shown = prefix + info.orig_filename
        name = normalise_name(info.orig_filename, shown)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise _refusal("archive_symlink", shown, "is a symbolic link")
        if info.flag_bits & 0x1:
            raise _refusal("archive_encrypted", shown, "is encrypted")
        key = name.rstrip("/").casefold()
        if key in seen:
            raise _refusal("archive_duplicate_entry", shown, "appears twice")
        seen.add(key)
        ranges.append((*_local_range(fp, info, shown), shown))
        entries.append(
            EntryInfo(
                name=name,
                size=info.file_size,
                compressed_size=info.compress_size,
                is_dir=info.is_dir(),
                parents=parents,
                zipinfo=info,
            )
        )
    # Entries must be disjoint byte ranges before the central directory; overlap is how a bomb
    # makes one compressed stream count as many entries.
    ranges.sort()
    end_of_data = getattr(zf, "start_dir", None)
    for (_, end, shown), nxt in zip(ranges, [*ranges[1:], None], strict=True):
        if nxt is not None and end > nxt[0]:
            raise _refusal("archive_overlapping_entries", shown, f"overlaps entry {nxt[2]!r}")
        if end_of_data is not None and end > end_of_data:
            raise _refusal("archive_corrupt", shown, "runs past the archive's data")
    return entries


class _CountingReader(io.RawIOBase):
    """Reads a zip entry, counting every decompressed byte against the budget and ratio."""

    def __init__(
        self, raw: IO[bytes], entry: EntryInfo, limits: ArchiveLimits, budget: Budget
    ) -> None:
        self._raw = raw
        self._entry = entry
        self._limits = limits
        self._budget = budget
        self._ratio_cap = limits.max_ratio * max(entry.compressed_size, 1)
        self.produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._raw.read(len(buffer))
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
            # zlib/bz2/lzma errors, a bad CRC, or data shorter than declared.
            raise _refusal("archive_corrupt", self._entry.path, f"is corrupt: {exc}") from exc
        n = len(data)
        buffer[:n] = data
        self.produced += n
        self._budget.spend(n, self._entry.path)
        if self.produced > self._limits.ratio_min_bytes and self.produced > self._ratio_cap:
            ratio = f"{self._limits.max_ratio:g}x"
            raise _refusal(
                "archive_ratio",
                self._entry.path,
                f"expands more than {ratio}: it looks like a zip bomb",
            )
        return n

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


def open_entry(
    zf: zipfile.ZipFile, entry: EntryInfo, limits: ArchiveLimits, budget: Budget | None = None
) -> io.BufferedReader:
    """A binary file-like over a checked entry that raises :class:`ArchiveRefused` as soon as
    the decompressed bytes pass the budget or the ratio limit."""
    if entry.zipinfo is None or entry.is_dir:
        raise ValueError(f"{entry.path!r} is not a file entry of a checked archive")
    budget = budget if budget is not None else Budget(limits.max_total_bytes)
    try:
        raw = zf.open(entry.zipinfo)
    except NotImplementedError as exc:
        raise _refusal("archive_unsupported", entry.path, f"cannot be read: {exc}") from exc
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise _refusal("archive_corrupt", entry.path, f"is corrupt: {exc}") from exc
    return io.BufferedReader(_CountingReader(raw, entry, limits, budget), buffer_size=_CHUNK)


class SafeZip:
    """A checked archive to read entries from; nested archives share the outer one's budget.

    >>> with SafeZip(path, limits) as archive:
    ...     for entry in archive.entries: ...
    ...     with archive.open("_chat.txt") as stream: ...
    """

    def __init__(
        self,
        source: Path | str | BinaryIO,
        limits: ArchiveLimits | None = None,
        *,
        parents: tuple[str, ...] = (),
        budget: Budget | None = None,
    ) -> None:
        self.limits = limits or ArchiveLimits()
        self.parents = parents
        self.budget = budget if budget is not None else Budget(self.limits.max_total_bytes)
        self._owned: list[BinaryIO] = []
        shown = "/".join(parents) or (Path(source).name if isinstance(source, (str, Path)) else "")
        _refuse_too_many(_precount(source, self.limits.max_entries), self.limits, parents)
        try:
            self._zip = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
            raise ArchiveRefused(
                "archive_corrupt",
                f"{shown or 'archive'!r} is not a readable zip archive: {exc}",
                "/".join(parents) or None,
            ) from exc
        try:
            self.entries = check_zip(self._zip, self.limits, parents)
        except BaseException:
            self._zip.close()
            raise

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()
        for fp in self._owned:
            fp.close()
        self._owned.clear()

    def entry(self, name: str) -> EntryInfo:
        for entry in self.entries:
            if entry.name == name:
                return entry
        raise KeyError(name)

    def open(self, entry: EntryInfo | str) -> io.BufferedReader:
        """A counting binary stream over one file entry."""
        entry = self.entry(entry) if isinstance(entry, str) else entry
        return open_entry(self._zip, entry, self.limits, self.budget)

    def open_nested(self, entry: EntryInfo | str) -> SafeZip:
        """The archive inside ``entry``, spooled to a temporary file (zipfile needs to seek)."""
        entry = self.entry(entry) if isinstance(entry, str) else entry
        if len(entry.parents) + 1 > self.limits.max_depth:
            raise _refusal(
                "archive_nested_too_deep",
                entry.path,
                f"nests archives deeper than {self.limits.max_depth}",
            )
        spool = tempfile.TemporaryFile(prefix="chatlens-nested-")
        try:
            with self.open(entry) as stream:
                shutil.copyfileobj(stream, spool, _CHUNK)
            spool.seek(0)
            nested = SafeZip(
                spool, self.limits, parents=(*entry.parents, entry.name), budget=self.budget
            )
        except BaseException:
            spool.close()
            raise
        nested._owned.append(spool)
        return nested


def is_zip(path: Path) -> bool:
    """Whether the file starts like a zip archive (a local header or an empty archive)."""
    with open(path, "rb") as fp:
        return fp.read(4) in (_LOCAL_SIGNATURE, b"PK\x05\x06")


def inspect(
    path: Path | str | BinaryIO, limits: ArchiveLimits | None = None, *, verify: bool = True
) -> list[EntryInfo]:
    """Check an archive and every archive inside it; the entries of all levels, outer first.

    With ``verify`` (the default) every entry is decompressed once and its bytes counted, which is
    the only way to know the real sizes; without it only the structure is checked. Raises
    :class:`ArchiveRefused`.
    """
    limits = limits or ArchiveLimits()
    found: list[EntryInfo] = []

    def walk(archive: SafeZip) -> None:
        for entry in archive.entries:
            found.append(entry)
            if entry.is_archive:
                with archive.open_nested(entry) as nested:
                    walk(nested)
            elif verify and not entry.is_dir:
                with archive.open(entry) as stream:
                    while stream.read(_CHUNK):
                        pass

    with SafeZip(path, limits) as top:
        walk(top)
        # Many tiny nested archives could each pass while together holding too many entries.
        if len(found) > limits.max_entries:
            raise ArchiveRefused(
                "archive_too_many_entries",
                f"archive has {len(found)} entries with its nested archives; "
                f"the limit is {limits.max_entries}",
            )
    return found
