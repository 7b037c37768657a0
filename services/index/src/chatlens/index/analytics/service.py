"""The ``index.analytics`` RPC: resolve the version, gather its live rows, run one report.

Reads committed manifests and immutable segments only, like search, so it never waits for the
writer; a version being written is not visible until its tag exists (``ManifestReader``).
"""

from __future__ import annotations

import json
import zoneinfo

import pyarrow as pa

from chatlens.index.analytics import (
    activity,
    calendar,
    conversations,
    identities,
    interaction,
    language,
    overview,
    people,
    sql,
)
from chatlens.index.analytics.frame import as_people, live_table, with_people
from chatlens.index.analytics.prepared import PreparedFrames, prepare
from chatlens.index.manifests import ManifestReader
from chatlens.index.storage import words
from chatlens.index.storage.segment import SegmentCache
from chatlens.index.tombstones import Tombstones
from chatlens.shared.bus import PermanentError
from chatlens.shared.schemas import AnalyticsAnswered, AnalyticsRequested


def valid_timezone(name: str) -> bool:
    """True for an IANA zone name the system's tz database knows."""
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


# The columns a report reads besides ``frame.FIELDS``: the text (mentions) or what each message's
# segment derived from it for the language report.
EXTRA_FIELDS = {"interaction": ("text",), "language": words.FIELDS}


class Analytics:
    """Answers AnalyticsRequested; safe to share between RPC worker threads."""

    def __init__(
        self,
        manifests: ManifestReader,
        segments: SegmentCache,
        tombstones: Tombstones | None = None,
        threads: int | None = None,
        frames: PreparedFrames | None = None,
    ) -> None:
        self.manifests, self.segments = manifests, segments
        self.tombstones = tombstones or Tombstones()
        self.threads = threads
        # The selections asked about lately, prepared (a version's rows never change).
        self.frames = frames if frames is not None else PreparedFrames()

    def answer(self, request: AnalyticsRequested) -> AnalyticsAnswered:
        if not valid_timezone(request.timezone):
            raise PermanentError(f"unknown time zone {request.timezone!r}", code="invalid_timezone")
        if request.report == "language":
            unknown = sorted(set(request.languages) - set(language.language_codes()))
            if unknown:
                raise PermanentError(
                    f"no stop words for {', '.join(unknown)}", code="invalid_language"
                )
        collection = self.manifests.collection(request.org_id, request.collection_id)
        manifest = self.manifests.manifest(collection, request.version)
        extra = EXTRA_FIELDS.get(request.report, ())
        deleted = self.tombstones.deleted(manifest)
        # What the rows are (a purge gives old versions new segments, so the version number
        # alone does not say), and what the request selects from them.
        key = (
            collection.path,
            manifest.version,
            tuple(e.id for e in manifest.segments),
            deleted,
            json.dumps(manifest.people, sort_keys=True),
            request.filters.model_dump_json(),
            request.timezone,
            extra,
        )

        def make():
            segments = [
                self.segments.get(collection.segment_path(entry.id)) for entry in manifest.segments
            ]
            # Senders grouped into people (``chatlens.index.people``) count as their person,
            # and a sender filter naming a person selects all of its names.
            filters = with_people(request.filters, manifest.people)
            frame = live_table(segments, deleted, filters, self.tombstones, extra)
            return prepare(as_people(frame, manifest.people), request.timezone)

        if request.report == "language":
            # Kept: the selection's tallies, not its frame (counted once per selection).
            counted = self.frames.get(key, lambda: language.tallies(make(), self.threads))
            result = language.language(counted, request.top, request.languages, self.threads)
        else:
            frame = self.frames.get(key, make)
            with sql.connect(frame, request.gap_minutes, self.threads) as con:
                result = run(con, request, frame)
        if request.report == "identities":
            result["people"] = manifest.people
        return AnalyticsAnswered(
            version=manifest.version,
            report=request.report,
            timezone=request.timezone,
            result=result,
        )


def run(con, request: AnalyticsRequested, frame: pa.Table) -> dict:
    """The report ``request`` names, over the connection's frame (``frame``, prepared)."""
    if request.report == "overview":
        return overview.overview(con)
    if request.report == "activity":
        return activity.activity(con, request.bucket, request.stack, request.top)
    if request.report == "people":
        return people.people(con, request.limit)
    if request.report == "interaction":
        return interaction.interaction(con, request.top, request.bucket)
    if request.report == "language":  # counted afresh (``Analytics`` keeps the tallies)
        return language.language(language.tallies(frame), request.top, request.languages)
    if request.report == "identities":
        return identities.identities(con, request.limit)
    if request.report == "calendar":
        return calendar.calendar(con, request.year)
    return conversations.conversations(frame, request.gap_minutes, request.top)
