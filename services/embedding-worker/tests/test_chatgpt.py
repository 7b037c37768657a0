"""ChatGPT conversations.json: each conversation's visible thread, nothing from other branches."""

from __future__ import annotations

from datetime import UTC, datetime

from chatlens.embedding_worker.parsing import parse_any
from chatlens.embedding_worker.parsing.chatgpt import thread


def parse(fixtures_dir):
    result = parse_any(fixtures_dir / "chatgpt/conversations.json")
    return result, list(result.messages)


def test_the_thread_is_the_path_from_current_node_to_the_root(fixtures_dir):
    _, messages = parse(fixtures_dir)
    sourdough = [m for m in messages if m.chat == "Sourdough schedule"]

    assert [m.native_id for m in sourdough] == ["n1", "n2b", "n3", "n4", "n5", "n6"]
    assert not any("DISCARDED" in m.text for m in messages)
    # Each message answers the one before it in the thread.
    assert [m.reply_to for m in sourdough[1:]] == [m.message_id for m in sourdough[:-1]]


def test_senders_are_roles_and_times_are_exact(fixtures_dir):
    _, messages = parse(fixtures_dir)

    assert [m.sender for m in messages[:2]] == ["user", "assistant"]
    assert messages[0].sent_at == datetime(2024, 5, 1, 8, 1, 0, 250000, tzinfo=UTC)
    assert messages[0].tz_assumption == "exact (unix time)"


def test_images_are_attachments_and_text_parts_are_the_text(fixtures_dir):
    _, messages = parse(fixtures_dir)
    image = messages[2]

    assert image.text == "Is this rise enough?"
    assert [(a.name, a.type, a.size) for a in image.attachments] == [
        ("file-service://file-AbC123", "image_asset_pointer", 245120)
    ]


def test_code_is_the_assistants_turn_tool_output_a_service_event(fixtures_dir):
    """The assistant's code (sent to the code interpreter) is a message it wrote (issue 12);
    what the tool printed stays a service event; hidden messages are left out."""
    result, messages = parse(fixtures_dir)
    code, output = messages[3], messages[4]

    assert (code.kind, code.sender, code.text) == ("text", "assistant", "print(2 * 500 / 3)")
    assert code.embeddable
    assert (output.kind, output.sender, output.text) == ("service", "python", "333.3333333333333")
    assert not output.embeddable
    assert "n0" not in {m.native_id for m in messages}  # the hidden system message
    stats = result.diagnostics.as_stats()
    assert (stats["messages"], stats["system_events"], stats["chats"]) == (8, 1, 2)


def test_a_conversation_title_is_the_chat_and_backslashes_survive(fixtures_dir):
    _, messages = parse(fixtures_dir)

    assert messages[-1].chat == "Regex for dates"
    assert messages[-1].text == r"\d{4}-\d{2}-\d{2}"


def test_a_cycle_in_the_tree_ends_the_walk():
    conversation = {
        "current_node": "a",
        "mapping": {"a": {"id": "a", "parent": "b"}, "b": {"id": "b", "parent": "a"}},
    }

    assert [n["id"] for n in thread(conversation)] == ["b", "a"]


def test_without_current_node_the_last_branch_is_followed():
    conversation = {
        "mapping": {
            "r": {"id": "r", "parent": None, "children": ["x", "y"]},
            "x": {"id": "x", "parent": "r", "children": []},
            "y": {"id": "y", "parent": "r", "children": []},
        }
    }

    assert [n["id"] for n in thread(conversation)] == ["r", "y"]
