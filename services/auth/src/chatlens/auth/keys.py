"""The JWT signing keys: the active one in a PEM file (generated on first start), the retired ones
beside it, all published as JWKS so tokens signed before a rotation still verify.

Rotation (:func:`rotate`, ``python -m chatlens.auth admin rotate-key``) copies the active key to
``retired-keys/<kid>.pem`` and puts a new key in its place. Every running auth process notices
the new file (:class:`Keyring` checks it on use), signs with the new key, and keeps publishing the
retired one for ``retain_s`` after its rotation: long enough for every token it signed to expire.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

log = logging.getLogger(__name__)

RSA_BITS = 2048
# RFC 7638: the required members of each key type, the only ones the thumbprint hashes.
THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}


@dataclass(frozen=True)
class SigningKey:
    """A private key with what a verifier needs to know about it."""

    private_key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
    alg: str
    kid: str

    @property
    def public_key(self):
        return self.private_key.public_key()

    def public_jwk(self) -> dict:
        """The public half as a JWK, with kid, alg and use."""
        return {**_public_members(self.public_key), "kid": self.kid, "alg": self.alg, "use": "sig"}


def jwks(keys: list[SigningKey]) -> dict:
    return {"keys": [key.public_jwk() for key in keys]}


def thumbprint(jwk: dict) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url without padding)."""
    members = {name: jwk[name] for name in THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def load_or_create(path: Path) -> SigningKey:
    """The key in ``path``; an RSA key is generated there (mode 0600) if the file is missing."""
    if not path.exists():
        _create(path)
    return _load(path)


def _load(path: Path) -> SigningKey:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning(
            "the JWT private key is readable by others",
            extra={"path": str(path), "mode": oct(mode)},
        )
    private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if isinstance(private_key, rsa.RSAPrivateKey):
        alg = "RS256"
    elif isinstance(private_key, ed25519.Ed25519PrivateKey):
        alg = "EdDSA"
    else:
        raise ValueError(
            f"{path}: unsupported key type {type(private_key).__name__}; use RSA or Ed25519"
        )
    return SigningKey(private_key, alg, thumbprint(_public_members(private_key.public_key())))


def _public_members(public_key) -> dict:
    if isinstance(public_key, rsa.RSAPublicKey):
        return RSAAlgorithm.to_jwk(public_key, as_dict=True)
    return OKPAlgorithm.to_jwk(public_key, as_dict=True)


def _new_pem() -> bytes:
    return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, pem: bytes) -> Path:
    """``pem`` in a fsynced 0600 temporary file beside ``path``; its path."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
        handle.flush()
        os.fsync(handle.fileno())
    return tmp


def retired_dir(path: Path) -> Path:
    return path.parent / "retired-keys"


def rotate(path: Path) -> tuple[str, str]:
    """Retire the active key in ``path`` and put a new one there; (old kid, new kid)."""
    old = load_or_create(path)
    retired = retired_dir(path)
    retired.mkdir(mode=0o700, exist_ok=True)
    tmp = _write_private(retired / f"{old.kid}.pem", path.read_bytes())
    os.replace(tmp, retired / f"{old.kid}.pem")  # its mtime is the retirement time
    tmp = _write_private(path, _new_pem())
    os.replace(tmp, path)  # atomic: a reader sees the old key or the new one, never half
    _fsync_dir(path.parent)
    new = _load(path)
    log.info("rotated the JWT signing key", extra={"old_kid": old.kid, "new_kid": new.kid})
    return old.kid, new.kid


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Keyring:
    """The active key (re-read when its file changes) and the retired keys still published."""

    def __init__(self, path: Path, retain_s: int) -> None:
        self.path, self.retain_s = path, retain_s
        self._active = load_or_create(path)
        self._stamp = self._file_stamp()
        # Parsed retired keys by file, with the mtime they were read at: parsing costs ~1 ms.
        self._retired: dict[Path, tuple[float, SigningKey]] = {}

    def _file_stamp(self) -> tuple[int, int]:
        stat = self.path.stat()
        return stat.st_ino, stat.st_mtime_ns

    def active(self) -> SigningKey:
        """The key to sign with now (a stat per call: a rotation by another process shows)."""
        stamp = self._file_stamp()
        if stamp != self._stamp:
            self._active, self._stamp = _load(self.path), stamp
        return self._active

    def published(self) -> list[SigningKey]:
        """The active key first, then the retired keys younger than ``retain_s``."""
        keys, now = [self.active()], time.time()
        folder = retired_dir(self.path)
        for pem in sorted(folder.glob("*.pem")) if folder.is_dir() else []:
            mtime = pem.stat().st_mtime
            if now - mtime > self.retain_s or pem.stem == keys[0].kid:
                continue
            cached = self._retired.get(pem)
            if cached is None or cached[0] != mtime:
                cached = self._retired[pem] = (mtime, _load(pem))
            keys.append(cached[1])
        return keys

    def find(self, kid: str) -> SigningKey | None:
        """The published key named ``kid``, or None."""
        active = self.active()
        if active.kid == kid:
            return active
        return next((key for key in self.published() if key.kid == kid), None)


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = _new_pem()
    # Written whole under a temporary name, then hard-linked into place: a reader never sees
    # half a key, and if another process won the race its key stands and ours is dropped.
    tmp = _write_private(path, pem)
    try:
        try:
            os.link(tmp, path)
            log.info("generated a new JWT signing key", extra={"path": str(path)})
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)
