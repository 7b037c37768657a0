"""Re-encrypting stored secrets under a new Fernet key (``MultiFernet.rotate``), for every service
that keeps secrets in a :mod:`chatlens.shared.secret_box` key file: auth's provider and TOTP
secrets (``python -m chatlens.auth admin rotate-secrets-key``), the gateway's webhook signing
secrets (``python -m chatlens.gateway rotate-webhook-key``).

The order is what makes it safe while the service runs:

1. the new key is written first in the key file, beside the old ones, before anything is
   encrypted with it; running processes re-read the file when it changes, so from then on they
   encrypt with the new key and still decrypt with every old one;
2. every stored value is re-encrypted under the first key, each by a conditional update (``SET
   value = new WHERE id = … AND value = old``): a value replaced meanwhile (a secret an admin
   rotated through the API) is never overwritten with the re-encrypted old one, only read again;
3. passes repeat until every value decrypts with the first key alone (a value written by a
   process that read the old file just before step 1 is caught by the next pass);
4. only then, and only if asked, are the old keys dropped. A value that no key decrypts is
   reported and keeps the old keys in the file.

Without ``new_key`` the file's first key is taken as the new one: for a key file the service may
not write (a Kubernetes Secret mounted read-only), the operator puts the new key first in the
Secret, restarts, re-encrypts, then removes the old lines.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from chatlens.shared.secret_box import load_keys, write_keys

log = logging.getLogger(__name__)
MAX_PASSES = 5


class RotationError(RuntimeError):
    """The values could not all be brought under the new key; the old keys were kept."""


@dataclass
class Rotation:
    reencrypted: int = 0  # values written under the new key (a value rewritten twice counts twice)
    values: int = 0  # values stored when the last pass ran
    unreadable: list[str] = field(default_factory=list)  # "table:id" that no key decrypts
    keys_before: int = 0
    keys_after: int = 0
    dropped_old: bool = False


def rotate(
    path: Path,
    sessions: sessionmaker[Session],
    columns: list[InstrumentedAttribute[str]],
    *,
    new_key: bool = True,
    drop_old: bool = False,
    batch: int = 200,
) -> Rotation:
    """Bring every value of ``columns`` (encrypted text columns of tables with a single-column
    primary key) under the key file's first key, adding a new first key unless ``new_key`` is
    false; drop the others when ``drop_old`` and nothing is left unreadable."""
    keys = load_keys(path)
    report = Rotation(keys_before=len(keys))
    if new_key:
        keys = [Fernet.generate_key(), *keys]
        write_keys(path, keys)
    fernet, first = MultiFernet([Fernet(k) for k in keys]), Fernet(keys[0])
    for _ in range(MAX_PASSES):
        pending, report.values, report.unreadable = 0, 0, []
        for column in columns:
            counted = _pass(sessions, column, fernet, first, batch, report)
            report.values += counted[0]
            pending += counted[1]
        if not pending:
            break
    else:
        raise RotationError(
            f"values kept changing under the rotation for {MAX_PASSES} passes; "
            "the old keys stay in the key file: run it again"
        )
    if drop_old and report.unreadable:
        raise RotationError(
            f"{len(report.unreadable)} values decrypt with no key in {path} "
            f"({', '.join(report.unreadable[:5])}); the old keys stay in the file"
        )
    if drop_old and len(keys) > 1:
        write_keys(path, keys[:1])
        report.dropped_old = True
    report.keys_after = 1 if report.dropped_old else len(keys)
    log.info("secret key rotated", extra={"key_file": str(path), **vars(report)})
    return report


def _pass(
    sessions: sessionmaker[Session],
    column: InstrumentedAttribute[str],
    fernet: MultiFernet,
    first: Fernet,
    batch: int,
    report: Rotation,
) -> tuple[int, int]:
    """One pass over a column: (values seen, values that were not under the first key)."""
    table = column.class_
    (key,) = table.__mapper__.primary_key
    seen = pending = 0
    after = None
    while True:
        with sessions() as session:
            query = select(key, column).order_by(key).limit(batch)
            if after is not None:
                query = query.where(key > after)
            rows = session.execute(query).all()
            if not rows:
                return seen, pending
            for row_id, value in rows:
                seen += 1
                if _is_under(first, value):
                    continue
                try:
                    rotated = fernet.rotate(value.encode()).decode()
                except InvalidToken:
                    report.unreadable.append(f"{table.__tablename__}:{row_id}")
                    continue
                pending += 1
                changed = session.execute(
                    update(table)
                    .where(key == row_id, column == value)
                    .values({column.key: rotated})
                    .execution_options(synchronize_session=False)
                )
                report.reencrypted += getattr(changed, "rowcount", 0)  # 0: changed meanwhile
            session.commit()
            after = rows[-1][0]


def _is_under(first: Fernet, value: str) -> bool:
    try:
        first.decrypt(value.encode())
        return True
    except InvalidToken:
        return False
