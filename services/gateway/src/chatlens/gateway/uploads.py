"""Uploads: streamed to disk while they arrive, hashed on the way, checked before a job exists.

Werkzeug's multipart parser asks :meth:`UploadRequest._get_file_stream` where to put each file;
we give it a temporary file inside the upload store that hashes and counts what is written, so a
200 MB export never sits in memory. After the checks (:mod:`.sniff`: its first bytes, or every
entry of a zip) pass, the file is renamed into its job's folder; if any file of a request fails,
all of them are removed.

The checks read a file through its own open descriptor with positional reads
(:class:`PositionalReader`), never by reopening its temporary name and never through the writer's
shared file position: what they read is what this request wrote, whatever other requests, threads
or processes do to the store's names meanwhile, and the temporary name never reaches a message.
A file is removed at the end of its request only if it was not committed (never "whatever has
that name now", which after a rename may be another upload's file).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from flask import Request, current_app

from chatlens.gateway.sniff import sniff
from chatlens.shared.archives import ArchiveLimits


class PositionalReader(io.RawIOBase):
    """A read-only, seekable view of an open descriptor with its own position (``os.pread``).

    Neither moves nor depends on the descriptor's shared offset, so any number of readers (and
    the writer) can use one descriptor at once; closing the view leaves the descriptor open.
    """

    def __init__(self, fd: int, size: int) -> None:
        super().__init__()
        self._fd, self._size, self._pos = fd, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = os.pread(self._fd, min(len(buffer), max(self._size - self._pos, 0)), self._pos)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos


class HashingFile:
    """A temporary file in the upload store that hashes and counts what is written to it."""

    def __init__(self, folder: Path) -> None:
        handle, name = tempfile.mkstemp(prefix=".incoming-", dir=folder)
        self.path = Path(name)
        self._file = os.fdopen(handle, "w+b")
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.committed = False

    def reader(self) -> io.BufferedReader:
        """What was written so far, read through this file's descriptor (see the module doc)."""
        self._file.flush()
        return io.BufferedReader(PositionalReader(self._file.fileno(), self.size))

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self._file.write(data)

    def __getattr__(self, name: str) -> Any:  # read, seek, tell, flush, close, ...
        return getattr(self._file, name)

    def commit(self, destination: Path) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path, destination)
        self.committed = True

    def discard(self) -> None:
        """Remove the file unless it was committed (its temporary name may be reused by now)."""
        self._file.close()
        if not self.committed:
            self.path.unlink(missing_ok=True)


class UploadRequest(Request):
    """Flask request class whose file parts stream into the upload store."""

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        folder = current_app.config["CHATLENS_UPLOAD_DIR"] / ".incoming"
        folder.mkdir(parents=True, exist_ok=True)
        stream = HashingFile(folder)
        self.environ.setdefault("chatlens.incoming", []).append(stream)
        return cast(IO[bytes], stream)  # a file in all but name: the rest via __getattr__


def safe_filename(name: str | None) -> str:
    """A display- and disk-safe version of a client-supplied file name (never a path)."""
    name = unicodedata.normalize("NFC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*').strip(". ")
    return name[:200] or "upload"


@dataclass
class CheckedFile:
    filename: str
    stream: HashingFile
    format: str


def check_file(
    filename: str, stream: HashingFile, requested_format: str, limits: ArchiveLimits
) -> CheckedFile:
    """Refuse what is empty, of an unknown type, not a chat export or an unsafe archive."""
    with stream.reader() as reader:
        format = sniff(filename, reader, stream.size, requested_format, limits)
    return CheckedFile(filename=filename, stream=stream, format=format)
