"""Uploads: streamed to disk while they arrive, hashed on the way, checked before a job exists.

Werkzeug's multipart parser asks :meth:`UploadRequest._get_file_stream` where to put each file;
we give it a temporary file inside the upload store that hashes and counts what is written, so a
200 MB export never sits in memory. After the checks (:mod:`.sniff`: its first bytes, or every
entry of a zip) pass, the file is renamed into its job's folder; if any file of a request fails,
all of them are removed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from flask import Request, current_app

from chatlens.gateway.sniff import sniff
from chatlens.shared.archives import ArchiveLimits


class HashingFile:
    """A temporary file in the upload store that hashes and counts what is written to it."""

    def __init__(self, folder: Path) -> None:
        handle, name = tempfile.mkstemp(prefix=".incoming-", dir=folder)
        self.path = Path(name)
        self._file = os.fdopen(handle, "w+b")
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self._file.write(data)

    def __getattr__(self, name):  # read, seek, tell, flush, close, ...
        return getattr(self._file, name)

    def commit(self, destination: Path) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path, destination)

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)


class UploadRequest(Request):
    """Flask request class whose file parts stream into the upload store."""

    def _get_file_stream(self, total_content_length, content_type, filename=None,
                         content_length=None):
        folder = current_app.config["CHATLENS_UPLOAD_DIR"] / ".incoming"
        folder.mkdir(parents=True, exist_ok=True)
        stream = HashingFile(folder)
        self.environ.setdefault("chatlens.incoming", []).append(stream)
        return stream


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


def check_file(filename: str, stream: HashingFile, requested_format: str,
               limits: ArchiveLimits) -> CheckedFile:
    """Refuse what is empty, of an unknown type, not a chat export or an unsafe archive."""
    stream.flush()  # the checks read the file by its path
    format = sniff(filename, stream.path, stream.size, requested_format, limits)
    return CheckedFile(filename=filename, stream=stream, format=format)
