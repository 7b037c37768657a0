"""Tags: named versions beside the v<N> tags, usable to pin a search, refused clearly."""

from __future__ import annotations

import pytest

from chatlens.index.manifests import ManifestReader
from chatlens.index.storage.collection import Collection
from chatlens.index.tags import Tags
from chatlens.index.versions import Versions
from chatlens.shared.bus import PermanentError
from chatlens.shared.schemas import (
    IndexRestored,
    SearchRequested,
    TagCreateRequested,
    TagDeleteRequested,
    TagInfo,
    TagsListRequested,
    VersionRestoreRequested,
    VersionsListRequested,
)

WHERE = {"org_id": "org1", "collection_id": "coll1"}


@pytest.fixture
def tags(layout, ingestor) -> Tags:
    return Tags(ManifestReader(layout), ingestor)


@pytest.fixture
def two_versions(make_text_job, run_messages):
    run_messages(make_text_job("j1", ["the invoice from Sam"]).all_messages())
    run_messages(make_text_job("j2", ["Lisbon offsite booked"], first_seq=5).all_messages())


def test_a_tag_names_a_version_and_stays_on_it(
    two_versions, tags, layout, segments, ingestor, make_text_job, run_messages
):
    assert tags.list(TagsListRequested(**WHERE)).tags == []
    tags.create(TagCreateRequested(**WHERE, name="before-lisbon", version=1))
    listed = tags.create(TagCreateRequested(**WHERE, name="latest.2025_02"))  # the latest
    assert listed.tags == [
        TagInfo(name="before-lisbon", version=1),
        TagInfo(name="latest.2025_02", version=2),
    ]
    run_messages(make_text_job("j3", ["more"], first_seq=9).all_messages())
    assert tags.list(TagsListRequested(**WHERE)).tags == listed.tags  # tags do not move
    # Git tags beside the v<N> ones: the version history does not change.
    versions = Versions(ManifestReader(layout), segments, ingestor)
    assert [v.version for v in versions.list(VersionsListRequested(**WHERE)).versions] == [
        0,
        1,
        2,
        3,
    ]
    git_tags = Collection(layout.collection("org1", "coll1")).git.tags()
    assert {"named/before-lisbon", "v1", "v3"} <= set(git_tags)
    left = tags.delete(TagDeleteRequested(**WHERE, name="before-lisbon"))
    assert left.tags == [TagInfo(name="latest.2025_02", version=2)]


def test_a_restore_is_announced_like_an_ingest(two_versions, layout, segments, ingestor, published):
    versions = Versions(ManifestReader(layout), segments, ingestor)
    restored = versions.restore(VersionRestoreRequested(**WHERE, version=1))
    [announced] = published.of(IndexRestored)
    assert (announced.org_id, announced.collection_id) == ("org1", "coll1")
    assert (announced.version, announced.restored) == (restored.version, 1) == (3, 1)
    assert announced.stats == {"restored": 1, "added": 0, "removed": 1}


@pytest.mark.parametrize(
    "name", ["12", "v3", "-x", "a/b", "a..b", "x.lock", "dot.", "", "x" * 64, "sp ace", "ünï"]
)
def test_bad_tag_names_are_refused(two_versions, tags, name):
    with pytest.raises(PermanentError) as refused:
        tags.create(TagCreateRequested(**WHERE, name=name))
    assert refused.value.code == "invalid_tag"
    assert tags.list(TagsListRequested(**WHERE)).tags == []


def test_duplicates_unknown_versions_tags_and_collections_are_refused(two_versions, tags):
    tags.create(TagCreateRequested(**WHERE, name="q1"))
    cases = [
        (lambda: tags.create(TagCreateRequested(**WHERE, name="q1", version=1)), "tag_exists"),
        (
            lambda: tags.create(TagCreateRequested(**WHERE, name="q2", version=7)),
            "version_not_found",
        ),
        (lambda: tags.delete(TagDeleteRequested(**WHERE, name="nope")), "tag_not_found"),
        (lambda: tags.delete(TagDeleteRequested(**WHERE, name="../../x")), "tag_not_found"),
        (lambda: tags.list(TagsListRequested(org_id="org2", collection_id="coll1")), "not_found"),
        (
            lambda: tags.create(
                TagCreateRequested(org_id="org2", collection_id="coll1", name="q3")
            ),
            "not_found",
        ),
    ]
    for attempt, code in cases:
        with pytest.raises(PermanentError) as refused:
            attempt()
        assert refused.value.code == code
    assert [t.name for t in tags.list(TagsListRequested(**WHERE)).tags] == ["q1"]


def test_a_search_pinned_at_a_tags_version_sees_that_version(two_versions, tags, searcher):
    [tag] = tags.create(TagCreateRequested(**WHERE, name="first", version=1)).tags
    answer = searcher.search(
        SearchRequested(**WHERE, mode="keyword", query="lisbon invoice", version=tag.version)
    )
    assert answer.version == 1
    assert [h.message.message_id for h in answer.hits] == ["j1-0"]
