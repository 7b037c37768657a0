"""An archive holding several well-known exports reads every one of them, not just the first."""

import zipfile
from pathlib import Path

from chatlens.embedding_worker.parsing import parse_any

FIXTURES = Path(__file__).parent / "fixtures"


def test_every_well_known_export_in_an_archive_is_read(tmp_path):
    archive = tmp_path / "exports.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(FIXTURES / "telegram" / "result.json", "telegram/result.json")
        zf.write(FIXTURES / "chatgpt" / "conversations.json", "chatgpt/conversations.json")
        zf.write(FIXTURES / "WhatsApp Chat with Ops.txt", "ops/_chat.txt")
    alone = {name: sum(1 for _ in parse_any(path).messages) for name, path in (
        ("telegram", FIXTURES / "telegram" / "result.json"),
        ("chatgpt", FIXTURES / "chatgpt" / "conversations.json"),
        ("whatsapp", FIXTURES / "WhatsApp Chat with Ops.txt"))}

    result = parse_any(archive)
    messages = list(result.messages)

    assert result.format == "mixed"
    assert {m.platform for m in messages} == {"telegram", "chatgpt", "whatsapp"}
    assert len(messages) == sum(alone.values())
    parts = result.diagnostics.as_stats()["parts"]
    assert sorted(p["format"] for p in parts) == ["chatgpt", "telegram", "whatsapp"]
