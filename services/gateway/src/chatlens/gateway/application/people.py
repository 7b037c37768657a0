"""People across platforms: grouping a collection's sender names into people (merge, split).

The index keeps the grouping in the collection's versions (``chatlens.index.people``): a change
is a new version, older versions keep theirs, analytics counts by person from it on. This use
case checks the request, asks the index, lets the collection's version follow, and audits it.
Suggestions come from the ``identities`` report (``analytics``).
"""

from __future__ import annotations

from typing import Literal

from chatlens.gateway import jobs
from chatlens.gateway.application.errors import Conflict
from chatlens.gateway.application.ports import Backends, Caller
from chatlens.gateway.db import Collection
from chatlens.shared import schemas

Action = Literal["merge", "split"]


def regroup(
    backends: Backends,
    caller: Caller,
    collection_id: str,
    action: Action,
    person: str,
    senders: list[str],
) -> schemas.PeopleMerged:
    """Merge ``senders`` into ``person``, or split them (all of them when empty) out of it."""
    with backends.sessions() as session:
        collection = jobs.get_collection(session, caller.org_id, collection_id)
        if collection.version == 0:
            raise Conflict("collection_empty", "nothing has been indexed in this collection")
    done = backends.rpc.call(
        schemas.PeopleMergeRequested(
            org_id=caller.org_id,
            collection_id=collection_id,
            action=action,
            person=person,
            senders=senders,
        ),
        schemas.PeopleMerged,
        service="index",
    )
    with backends.sessions() as session:
        row = session.get(Collection, collection_id)
        if row is not None and done.version > row.version:
            row.version = done.version
            session.commit()
    if backends.audit is not None and done.changed:
        backends.audit.record(
            f"people.{action}",
            org_id=caller.org_id,
            actor_id=caller.user_id,
            target=collection_id,
            person=person[:200],
            senders=[s[:200] for s in senders],
            version=done.version,
            role=caller.role,
        )
    return done
