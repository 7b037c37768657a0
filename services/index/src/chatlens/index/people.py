"""People across platforms: grouping sender names of a collection into people, per version.

The grouping lives in the manifest (``Manifest.people``: a person's name -> its sender names),
so it is versioned like everything else: a merge or a split is a new version, older versions keep
the grouping they had, and restoring one brings its grouping back. Analytics reads every sender
through it (``chatlens.index.analytics.frame.as_people``). The commit message says what was done
and how many names, never the names.

Idempotent like a deletion: the request's id is recorded with its version, and a redelivered
request is answered with that version's grouping. A sender name the live version does not hold
is ``sender_not_found`` (another org's collection is never opened: ``not_found``); splitting a
person the version does not have is ``person_not_found``; a change that changes nothing makes no
version.
"""

from __future__ import annotations

import logging

import pyarrow.compute as pc

from chatlens.index.ingest import Ingestor
from chatlens.index.storage.collection import Collection
from chatlens.index.storage.manifest import Manifest
from chatlens.index.storage.segment import SegmentCache
from chatlens.shared.bus import PermanentError
from chatlens.shared.schemas import PeopleMerged, PeopleMergeRequested

log = logging.getLogger(__name__)


def identities(people: dict[str, list[str]], persons: list[str]) -> list[str]:
    """Every sender name of ``persons`` in a version's grouping ``people``: a person's own name
    (compared case-folded) and each name grouped under it. A name that is no person stands for
    itself: a sender nobody grouped is a person of one name. Search's ``person`` filter."""
    by_fold = {person.casefold(): [person, *names] for person, names in people.items()}
    return list(
        dict.fromkeys(
            name for wanted in persons for name in by_fold.get(wanted.casefold(), [wanted])
        )
    )


def regrouped(people: dict[str, list[str]], request: PeopleMergeRequested) -> dict:
    """``people`` after ``request`` (a new dict; names sorted, empty people dropped)."""
    asked = set(request.senders)
    if request.action == "merge":
        out = {p: [s for s in names if s not in asked] for p, names in people.items()}
        out[request.person] = sorted(set(out.get(request.person, [])) | asked - {request.person})
    else:
        if request.person not in people:
            raise PermanentError(
                f"no person {request.person!r} in this collection", code="person_not_found"
            )
        out = {
            p: (names if p != request.person else [s for s in names if asked and s not in asked])
            for p, names in people.items()
        }
    return {p: names for p, names in sorted(out.items()) if names}


class PeopleGrouper:
    """Answers PeopleMergeRequested; takes the ingestor's writer lock (one writer)."""

    def __init__(self, segments: SegmentCache, ingestor: Ingestor) -> None:
        self.segments, self.ingestor = segments, ingestor

    def group(self, request: PeopleMergeRequested) -> PeopleMerged:
        with self.ingestor.lock:
            collection = self.ingestor.open_for_writing(request.org_id, request.collection_id)
            if collection is None:
                raise PermanentError(f"no collection {request.collection_id!r}", code="not_found")
            current = collection.manifest()
            if request.id in current.jobs:  # redelivered: answered from its version
                done = collection.manifest_at(current.jobs[request.id]) or current
                return PeopleMerged(version=done.version, changed=True, people=done.people)
            if request.action == "merge":
                unknown = set(request.senders) - self._senders(collection, current)
                if unknown or not request.senders:
                    raise PermanentError(
                        f"{len(unknown) or 'no'} sender name(s) not in this collection",
                        code="sender_not_found",
                    )
            people = regrouped(current.people, request)
            if people == current.people:
                return PeopleMerged(version=current.version, changed=False, people=people)
            summary = (
                f"people: {request.action} of {len(request.senders) or 'every'} "
                f"name(s); {len(people)} people"
            )
            try:
                new = collection.set_people(request.id, people, summary)
            except BaseException:
                self.ingestor.needs_recovery(collection)  # rolled back before the next write
                raise
        log.info(
            "people regrouped",
            extra={
                "collection_id": request.collection_id,
                "version": new.version,
                "action": request.action,
                "people": len(people),
            },
        )
        return PeopleMerged(version=new.version, changed=True, people=people)

    def _senders(self, collection: Collection, manifest: Manifest) -> set[str]:
        """Every sender name the version's segments hold (its deleted messages' too)."""
        names: set[str] = set()
        for entry in manifest.segments:
            column = self.segments.get(collection.segment_path(entry.id)).table["sender"]
            names.update(
                v
                for v in pc.unique(
                    column.combine_chunks().dictionary_decode()
                    if hasattr(column.type, "value_type")
                    else column
                ).to_pylist()
                if v is not None
            )
        return names
