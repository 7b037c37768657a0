"""The JWT signing key: loaded from a PEM file, generated on first start, published as JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
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
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning("the JWT private key is readable by others", extra={"path": str(path),
                                                                         "mode": oct(mode)})
    private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if isinstance(private_key, rsa.RSAPrivateKey):
        alg = "RS256"
    elif isinstance(private_key, ed25519.Ed25519PrivateKey):
        alg = "EdDSA"
    else:
        raise ValueError(f"{path}: unsupported key type {type(private_key).__name__}; "
                         "use RSA or Ed25519")
    return SigningKey(private_key, alg, thumbprint(_public_members(private_key.public_key())))


def _public_members(public_key) -> dict:
    if isinstance(public_key, rsa.RSAPublicKey):
        return RSAAlgorithm.to_jwk(public_key, as_dict=True)
    return OKPAlgorithm.to_jwk(public_key, as_dict=True)


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Written whole under a temporary name, then hard-linked into place: a reader never sees
    # half a key, and if another process won the race its key stands and ours is dropped.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)
            log.info("generated a new JWT signing key", extra={"path": str(path)})
        except FileExistsError:
            pass
    finally:
        tmp.unlink(missing_ok=True)
