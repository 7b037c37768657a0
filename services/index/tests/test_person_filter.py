"""The ``person`` filter (issue 12): search, /ask and analytics select every sender name of a
person in the version searched (``Manifest.people``), and only in that version; with ``sender``
too, the names of the person among those senders. Checked against the history's own senders."""

from __future__ import annotations

import numpy as np
import pytest
from analytics_data import generate

from chatlens.index.analytics.service import Analytics
from chatlens.index.browse import Browser
from chatlens.index.manifests import ManifestReader
from chatlens.index.people import PeopleGrouper, identities
from chatlens.index.storage.segment import SegmentCache
from chatlens.shared.schemas import (
    AnalyticsRequested,
    MessagesListRequested,
    PeopleMergeRequested,
    SearchFilters,
    SearchRequested,
)

COUNT = 1200


@pytest.fixture(scope="module")
def history():
    return generate(COUNT)


@pytest.fixture
def grouped(run_messages, job_of, history, ingestor):
    """The history indexed (version 1), then Sam and Wei merged into "Sam W" (version 2)."""
    run_messages(job_of("j1", history).all_messages())
    PeopleGrouper(SegmentCache(8), ingestor).group(
        PeopleMergeRequested(
            org_id="org1",
            collection_id="coll1",
            action="merge",
            person="Sam W",
            senders=["Sam", "Wei"],
        )
    )


def search(searcher, version=None, **filters):
    """Every hit of a keyword-free semantic search (k as large as the history) within filters."""
    vector = np.ones(16, dtype=np.float32) / 4.0  # the tests' DIM, unit length
    answer = searcher.search(
        SearchRequested(
            org_id="org1",
            collection_id="coll1",
            mode="semantic",
            vector=vector.tolist(),
            k=100,
            filters=SearchFilters(**filters),
            version=version,
            context=0,
        )
    )
    return answer


def test_identities_are_the_persons_names_and_a_name_stands_for_itself():
    people = {"Sam W": ["Sam", "Wei"]}
    assert identities(people, ["sam w"]) == ["Sam W", "Sam", "Wei"]
    assert identities(people, ["Marta", "Sam W"]) == ["Marta", "Sam W", "Sam", "Wei"]
    assert identities({}, ["Sam W"]) == ["Sam W"]


def test_a_person_filter_finds_every_name_of_the_person_in_that_version(grouped, searcher, history):
    hits = search(searcher, person=["Sam W"]).hits
    assert hits and {h.message.sender for h in hits} == {"Sam", "Wei"}
    assert len(search(searcher, person=["sam w"]).hits) == len(hits)  # case-folded
    # With sender too: the person's names among those senders.
    assert {h.message.sender for h in search(searcher, person=["Sam W"], sender=["Wei"]).hits} == {
        "Wei"
    }
    assert search(searcher, person=["Sam W"], sender=["Marta"]).hits == []
    # Version 1 has no people: "Sam W" is nobody's name there.
    assert search(searcher, version=1, person=["Sam W"]).hits == []
    assert {h.message.sender for h in search(searcher, version=1, person=["Sam"]).hits} == {"Sam"}


def test_analytics_count_a_person_filter_as_search_does(grouped, layout, history):
    analytics = Analytics(ManifestReader(layout), SegmentCache(8))

    def count(**filters):
        return analytics.answer(
            AnalyticsRequested(
                org_id="org1",
                collection_id="coll1",
                report="overview",
                filters=SearchFilters(**filters),
            )
        ).result["messages"]

    def expected(names):
        return sum(1 for m in history if m.sender in names)

    assert count(person=["Sam W"]) == expected({"Sam", "Wei"}) > 0
    assert count(person=["Sam W"], sender=["Wei"]) == expected({"Wei"})
    assert count(person=["Sam W"], sender=["Marta"]) == 0


def test_listing_messages_by_person_gives_every_name_of_the_person(grouped, layout, history):
    listed = Browser(ManifestReader(layout), SegmentCache(8)).messages(
        MessagesListRequested(
            org_id="org1",
            collection_id="coll1",
            filters=SearchFilters(person=["Sam W"]),
            limit=10_000,
        )
    )
    assert listed.total == sum(1 for m in history if m.sender in ("Sam", "Wei"))
    assert {m.sender for m in listed.messages} == {"Sam", "Wei"}
