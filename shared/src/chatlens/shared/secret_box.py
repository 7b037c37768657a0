"""Secrets kept encrypted at rest with Fernet keys from a file (``cryptography``'s MultiFernet).

The key file holds one Fernet key per line, newest first; it is generated (mode 0600) on first
use. The first key encrypts, any key decrypts, so a new key is put first, everything is
re-encrypted with it, and only then are the old ones dropped. Auth keeps the org provider
secrets and TOTP secrets this way, the gateway its webhook signing secrets (each service with
its own key file).
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet


def load_keys(path: Path) -> list[bytes]:
    """The Fernet keys in ``path``, newest first; one is generated (mode 0600) if it is missing."""
    if not path.exists():
        write_keys(path, [Fernet.generate_key()])
    keys = [line.strip().encode() for line in path.read_text().splitlines() if line.strip()]
    if not keys:
        raise ValueError(f"{path}: no Fernet key")
    return keys


def write_keys(path: Path, keys: list[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(b"\n".join(keys) + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class SecretBox:
    """Encrypts with the first key, decrypts with any (the file is re-read when it changes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._fernet: MultiFernet | None = None

    def fernet(self) -> MultiFernet:
        keys = load_keys(self.path)
        stat = self.path.stat()
        if self._fernet is None or self._stamp != (stat.st_ino, stat.st_mtime_ns):
            self._fernet = MultiFernet([Fernet(key) for key in keys])
            self._stamp = (stat.st_ino, stat.st_mtime_ns)
        return self._fernet

    def encrypt(self, value: str) -> str:
        return self.fernet().encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        return self.fernet().decrypt(token.encode()).decode()
