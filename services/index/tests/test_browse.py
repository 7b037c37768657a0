"""Reading without a query: a window's messages in time order, and the chats and senders."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chatlens.index.browse import Browser
from chatlens.index.handlers import search_handler
from chatlens.index.manifests import ManifestReader
from chatlens.index.storage.segment import SegmentCache
from chatlens.shared.bus import Delivery, PermanentError
from chatlens.shared.schemas import (
    FacetsRequested,
    MessageRequested,
    MessagesDeleteRequested,
    MessagesListRequested,
    SearchFilters,
)

from .conftest import T0

DELIVERY = Delivery(queue="index.rpc", redelivered=False, delivery_count=0, correlation_id=None)


@pytest.fixture
def browser(layout) -> Browser:
    return Browser(ManifestReader(layout), SegmentCache(16))


@pytest.fixture
def two_versions(make_text_job, run_messages):
    """v1: #ops (3 messages); v2 adds #general (2)."""
    ops = [
        {"text": "deploy at noon", "chat": "ops", "sender": "Alice"},
        {"text": "rollback done", "chat": "ops", "sender": "Bob"},
        {"text": "all green", "chat": "ops", "sender": "Alice"},
    ]
    run_messages(make_text_job("j1", ops).all_messages())
    general = [
        {"text": "lunch?", "chat": "general", "sender": "Carol"},
        {"text": "offsite in Lisbon", "chat": "general", "sender": "Alice"},
    ]
    run_messages(make_text_job("j2", general, first_seq=10).all_messages())


def test_a_chats_messages_come_in_time_order_with_the_total(two_versions, browser):
    listed = browser.messages(
        MessagesListRequested(
            org_id="org1", collection_id="coll1", filters=SearchFilters(chat=["OPS"])
        )
    )

    assert listed.version == 2 and listed.total == 3
    assert [m.text for m in listed.messages] == ["deploy at noon", "rollback done", "all green"]


def test_a_window_is_cut_at_the_limit_but_the_total_says_how_many_passed(two_versions, browser):
    listed = browser.messages(
        MessagesListRequested(
            org_id="org1",
            collection_id="coll1",
            limit=2,
            filters=SearchFilters(since=T0 + timedelta(minutes=1)),
        )
    )

    assert listed.total == 4
    assert [m.text for m in listed.messages] == ["rollback done", "all green"]


def test_a_pinned_version_lists_what_it_held(two_versions, browser):
    listed = browser.messages(
        MessagesListRequested(
            org_id="org1", collection_id="coll1", version=1, filters=SearchFilters()
        )
    )

    assert listed.version == 1 and listed.total == 3


def test_facets_count_each_chat_and_sender(two_versions, browser):
    facets = browser.facets(FacetsRequested(org_id="org1", collection_id="coll1"))

    assert [(f.value, f.count) for f in facets.chats] == [("ops", 3), ("general", 2)]
    assert [(f.value, f.count) for f in facets.senders] == [("Alice", 3), ("Bob", 1), ("Carol", 1)]


def test_another_orgs_collection_is_not_found(two_versions, browser):
    with pytest.raises(PermanentError) as refused:
        browser.messages(MessagesListRequested(org_id="org2", collection_id="coll1"))
    assert refused.value.code == "not_found"
    with pytest.raises(PermanentError):
        browser.facets(FacetsRequested(org_id="org2", collection_id="coll1"))


def test_the_rpc_handler_routes_browsing(two_versions, searcher, browser):
    handle = search_handler(searcher, None, browser)

    listed = handle(MessagesListRequested(org_id="org1", collection_id="coll1"), DELIVERY)
    facets = handle(FacetsRequested(org_id="org1", collection_id="coll1"), DELIVERY)

    assert listed.total == 5 and len(facets.chats) == 2


def test_facets_are_kept_per_version_and_each_version_has_its_own(two_versions, browser):
    latest = browser.facets(FacetsRequested(org_id="org1", collection_id="coll1"))
    again = browser.facets(FacetsRequested(org_id="org1", collection_id="coll1"))
    first = browser.facets(FacetsRequested(org_id="org1", collection_id="coll1", version=1))

    assert again.chats == latest.chats and again.id != latest.id
    assert [f.value for f in first.chats] == ["ops"]


def _open(browser, message_id, **extra):
    return browser.message(
        MessageRequested(org_id="org1", collection_id="coll1", message_id=message_id, **extra)
    )


def test_a_message_opens_with_its_chats_neighbours_from_every_segment(
    make_text_job, run_messages, browser
):
    first = make_text_job(
        "j1",
        [{"text": f"ops {n}", "chat": "ops", "sender": "Alice"} for n in range(3)]
        + [{"text": "hi", "chat": "general"}],
    )
    run_messages(first.all_messages())
    later = make_text_job(
        "j2",
        [{"text": f"ops {n}", "chat": "ops", "sender": "Bob"} for n in range(3, 6)],
        first_seq=10,
    )
    run_messages(later.all_messages())
    opened = _open(browser, first.messages[2].message_id, context=2)

    assert opened.version == 2 and opened.message.text == "ops 2"
    assert [m.text for m in opened.before] == ["ops 0", "ops 1"]
    assert [m.text for m in opened.after] == ["ops 3", "ops 4"]  # from the second upload
    assert _open(browser, first.messages[2].message_id, context=0).before == []
    # At the version before the second upload, the chat ended with the message.
    assert _open(browser, first.messages[2].message_id, context=2, version=1).after == []


def test_an_unknown_deleted_or_other_orgs_message_is_not_found(
    two_versions, browser, layout, segments, ingestor
):
    from chatlens.index.deletion import Deleter

    listed = browser.messages(
        MessagesListRequested(
            org_id="org1", collection_id="coll1", filters=SearchFilters(chat=["ops"])
        )
    )
    bob = next(m for m in listed.messages if m.sender == "Bob")
    with pytest.raises(PermanentError) as unknown:
        _open(browser, "no-such-message")
    assert unknown.value.code == "message_not_found"
    with pytest.raises(PermanentError) as other_org:
        browser.message(
            MessageRequested(org_id="org2", collection_id="coll1", message_id=bob.message_id)
        )
    assert other_org.value.code == "not_found"

    Deleter(segments, ingestor).delete(
        MessagesDeleteRequested(org_id="org1", collection_id="coll1", sender="Bob")
    )
    with pytest.raises(PermanentError) as deleted:
        _open(browser, bob.message_id)
    assert deleted.value.code == "message_not_found"
    assert "rollback done" not in [
        m.text for m in _open(browser, listed.messages[0].message_id).after
    ]
    assert _open(browser, bob.message_id, version=2).message.sender == "Bob"  # still in v2


def test_a_purge_is_not_hidden_by_the_facet_cache(two_versions, browser, segments, ingestor):
    from chatlens.index.deletion import Deleter

    pinned = FacetsRequested(org_id="org1", collection_id="coll1", version=2)
    assert "Bob" in [f.value for f in browser.facets(pinned).senders]  # now cached
    Deleter(segments, ingestor).delete(
        MessagesDeleteRequested(org_id="org1", collection_id="coll1", sender="Bob", purge=True)
    )
    # Same version number, rewritten history: the cached facets must not survive it.
    assert "Bob" not in [f.value for f in browser.facets(pinned).senders]
