"""Uploads: streamed to disk while they arrive, hashed on the way, checked before a job exists.

Werkzeug's multipart parser asks :meth:`UploadRequest._get_file_stream` where to put each file;
we give it a temporary file inside the upload store that hashes and counts what is written, so a
200 MB export never sits in memory and is never read twice. After the checks pass, the file is
renamed into its job's folder; if any file of a request fails, all of them are removed.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from flask import Request, current_app

from chatlens.shared.web import ApiError

SNIFF_BYTES = 64 * 1024
# A WhatsApp line starts with a date: "31/12/2023, 21:15 - ", "[31.12.23, 21:15:42] ", ISO dates.
_WHATSAPP_LINE = re.compile(
    r"^[\u200e\u200f\ufeff]?\[?\d{1,4}[./-]\d{1,2}[./-]\d{1,4},?\s+\d{1,2}[:.]\d{2}", re.MULTILINE
)
FORMATS = {"whatsapp": (".txt",)}


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


def check_file(filename: str, stream: HashingFile, requested_format: str) -> CheckedFile:
    """Refuse what is empty, of an unknown type, or not a chat export; return the format."""
    if stream.size == 0:
        raise ApiError(400, "empty_file", f"{filename}: the file is empty")
    suffix = Path(filename).suffix.lower()
    candidates = [requested_format] if requested_format != "auto" else list(FORMATS)
    formats = [f for f in candidates if suffix in FORMATS.get(f, ())]
    if not formats:
        known = ", ".join(sorted({s for suffixes in FORMATS.values() for s in suffixes}))
        raise ApiError(415, "unsupported_type",
                       f"{filename}: {suffix or 'no extension'} is not a supported export type "
                       f"(supported: {known})")
    stream.seek(0)
    head = stream.read(SNIFF_BYTES)
    if b"\x00" in head:
        raise ApiError(415, "not_text", f"{filename}: binary data where a text export was expected")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a multi-byte character cut at the sniff boundary is fine
            raise ApiError(415, "not_text", f"{filename}: the file is not UTF-8 text") from None
        text = head[: exc.start].decode("utf-8")
    if not _WHATSAPP_LINE.search(text):
        raise ApiError(422, "not_a_chat_export",
                       f"{filename}: no WhatsApp message line found in the first "
                       f"{SNIFF_BYTES // 1024} KiB (expected lines like '31/12/2023, 21:15 - Name: text')")
    return CheckedFile(filename=filename, stream=stream, format=formats[0])
