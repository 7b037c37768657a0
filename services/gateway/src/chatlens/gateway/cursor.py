"""Opaque page cursors: which index version and offset the next page starts at.

A cursor is base64url JSON ``{"c": format, "v": index version, "o": offset, "q": fingerprint}``,
plus ``"vs": {collection id: version}`` for a search over several collections.
It pins the version the first page was answered from, so the pages of one search never mix two
versions, and carries a fingerprint of the request, so a cursor replayed with another query is
refused rather than silently paging through something else. Opaque means clients must not build
one; the format number lets the gateway change it later and refuse old ones cleanly.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from chatlens.gateway.application.errors import BadRequest

FORMAT = 1


@dataclass(frozen=True)
class Cursor:
    version: int
    offset: int
    fingerprint: str
    # A multi-collection search pins every collection's version.
    versions: dict[str, int] = field(default_factory=dict)


def fingerprint(request: dict[str, Any]) -> str:
    canonical = json.dumps(request, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode(cursor: Cursor) -> str:
    fields = {"c": FORMAT, "v": cursor.version, "o": cursor.offset, "q": cursor.fingerprint}
    if cursor.versions:
        fields["vs"] = cursor.versions
    raw = json.dumps(fields, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, expected_fingerprint: str) -> Cursor:
    """The cursor in ``token``; a 400 ``invalid_cursor`` if it is not one of ours for this query."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if raw.get("c") != FORMAT:
            raise ValueError("unknown cursor format")
        cursor = Cursor(
            version=int(raw["v"]),
            offset=int(raw["o"]),
            fingerprint=str(raw["q"]),
            versions={str(k): int(v) for k, v in raw.get("vs", {}).items()},
        )
        if cursor.version < 0 or cursor.offset < 0 or any(v < 0 for v in cursor.versions.values()):
            raise ValueError("negative")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadRequest("invalid_cursor", f"the cursor is not valid: {exc}") from None
    if cursor.fingerprint != expected_fingerprint:
        raise BadRequest("invalid_cursor", "the cursor belongs to another search")
    return cursor
