"""Slack workspace export zips: channels, DMs, threads across day files, mrkdwn resolved."""

from __future__ import annotations

import pytest

from chatlens.embedding_worker.parsing import parse_any
from chatlens.embedding_worker.parsing.mrkdwn import resolve

USERS = {"U1": "Ana", "U2": "Ben"}
CHANNELS = {"C1": "general"}


@pytest.fixture(scope="module")
def slack(slack_zip):
    result = parse_any(slack_zip)
    return result, list(result.messages)


def by_text(messages, start):
    return next(m for m in messages if m.text.startswith(start))


def test_every_conversation_is_read_with_readable_names(slack):
    _, messages = slack

    assert [m.chat for m in messages] == (
        ["general"] * 7
        + ["design"] * 2
        + ["Group DM Ana, Ben Okafor, chloe"]
        + ["DM Ana, Ben Okafor"] * 2
    )
    assert by_text(messages, "lunch").sender == "Ana"  # the display name
    assert by_text(messages, "Late reply").sender == "Ben Okafor"  # no display name: real name


def test_the_real_name_is_kept_beside_the_display_name(slack):
    _, messages = slack
    assert {m.sender_alias for m in messages if m.sender == "Ana"} == {"Ana Souza"}
    # Shown by the real name already (no display name), or a bot: no other name to keep.
    assert by_text(messages, "Late reply").sender_alias is None
    assert all(m.sender_alias is None for m in messages if m.sender != "Ana")


def test_a_thread_is_assembled_across_day_files(slack):
    _, messages = slack
    parent = by_text(messages, "Welcome")
    replies = [m for m in messages if m.reply_to == parent.message_id]

    assert [m.text[:10] for m in replies] == ["thanks! is", "Late reply"]
    assert {m.thread_id for m in [parent, *replies]} == {parent.message_id}
    assert replies[1].source_path == "general/2024-04-02.json[0]"
    assert replies[1].edited


def test_mrkdwn_tokens_and_escapes_are_resolved(slack):
    _, messages = slack

    assert by_text(messages, "Welcome").text == (
        "Welcome @chloe! Release notes are in #design, ping @here if blocked. "
        "Docs: the wiki (https://wiki.example.com/release) & https://example.com"
    )
    assert by_text(messages, "thanks!").text == "thanks! is 2 < 3 > 1?"
    assert by_text(messages, "gift").text == "gift for Dana: shop@example.com?"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<@U1> and <@U9|zed>", "@Ana and @zed"),
        ("<#C1> <#C2|random>", "#general #random"),
        ("<!channel> <!everyone> <!subteam^S1|@devs>", "@channel @everyone @devs"),
        ("<https://a.example>", "https://a.example"),
        ("&lt;not a token&gt; &amp;", "<not a token> &"),
    ],
)
def test_mrkdwn_resolution(raw, expected):
    assert resolve(raw, USERS, CHANNELS) == expected


def test_joins_and_leaves_are_service_events(slack):
    result, messages = slack

    service = [(m.sender, m.text) for m in messages if m.kind == "service"]
    assert service == [
        ("chloe", "@chloe has joined the channel"),
        ("chloe", "@chloe has left the channel"),
    ]
    assert result.diagnostics.as_stats()["system_events"] == 2


def test_a_bot_post_is_a_message_of_its_bot(slack):
    """Deploy notices and CI results are what a bot wrote (issue 12), not events; an integration
    whose text is empty says it in its attachments."""
    _, messages = slack
    deploy = by_text(messages, "Deployed")
    build = by_text(messages, "Build #41")

    assert (deploy.kind, deploy.sender, deploy.sender_id) == ("text", "deploybot", "B01DEPLOY")
    assert deploy.embeddable
    assert (build.kind, build.sender, build.sender_id) == ("text", "CI", "B02CI")
    assert build.text == "Build #41 passed on main\nCoverage 91%"


def test_files_are_attachments_and_reactions_name_their_users(slack):
    _, messages = slack
    draft = by_text(messages, "New logo")
    pdf = next(m for m in messages if m.kind == "media")

    assert [(a.name, a.mime, a.size) for a in draft.attachments] == [
        ("logo-v2.png", "image/png", 48211)
    ]
    assert pdf.attachments[0].name == "feedback.pdf" and pdf.text == ""
    assert [(r.emoji, r.count, r.users) for r in by_text(messages, "Welcome").reactions] == [
        ("tada", 2, ["Ben Okafor", "chloe"])
    ]


def test_ids_are_the_channel_and_ts(slack_zip, slack):
    _, messages = slack
    again = list(parse_any(slack_zip).messages)

    assert [m.message_id for m in messages] == [m.message_id for m in again]
    assert len({m.message_id for m in messages}) == len(messages)
    assert by_text(messages, "Welcome").native_id == "1711962060.000200"
