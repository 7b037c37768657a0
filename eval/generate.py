"""Writes the evaluation corpus (``eval/corpus/``) and its labels (``eval/labels.json``).

    python eval/generate.py [--out eval]

Deterministic (a fixed seed, fixed zip timestamps, sorted JSON), so the committed files are what
this script writes; ``tests/eval`` checks that. Each chat of ``chats.CHATS`` becomes a timeline of
short sessions over the first half of 2024 with the planted messages of ``planted.PLANTED`` and
their near misses inserted at their dates, written in the chat's platform's export format:
WhatsApp (Android text), Telegram Desktop (``result.json``), Slack (a workspace zip) and Discord
(DiscordChatExporter JSON, one file per channel).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chats import CHATS, DAYS, OPENERS, SMALL_TALK, TAILS, TIMES, Chat
from planted import PLANTED, QUERIES

SEED = 20240501
START = datetime(2024, 1, 2, tzinfo=UTC)
END = datetime(2024, 6, 28, tzinfo=UTC)
ZIP_TIME = (2024, 7, 1, 0, 0, 0)
SLACK_WORKSPACE = "Acme Slack export Jul 1 2024.zip"
DISCORD_GUILD = "Tabletop Guild"


@dataclass(frozen=True)
class Line:
    sent_at: datetime
    sender: str
    text: str


def timeline(chat: Chat, rng: random.Random) -> list[Line]:
    """Filler sessions plus the chat's planted messages and near misses, in time order."""
    lines: list[Line] = []
    span = (END - START).total_seconds()
    while len(lines) < chat.messages:
        moment = START + timedelta(seconds=rng.uniform(0, span))
        moment = moment.replace(hour=rng.randint(7, 22), second=0, microsecond=0)
        for _ in range(rng.randint(2, 9)):
            lines.append(Line(moment, rng.choice(chat.people), filler(chat, rng)))
            moment += timedelta(minutes=rng.randint(1, 7), seconds=rng.randint(0, 59))
    for planted in (p for p in PLANTED if p.chat == chat.key):
        day = datetime.fromisoformat(planted.date).replace(hour=12, tzinfo=UTC)
        lines.append(Line(day, planted.sender, planted.text))
        for sender, text in planted.near_misses:
            offset = timedelta(days=rng.randint(-12, 12) or 1, minutes=rng.randint(0, 300))
            lines.append(Line(day + offset, sender, text))
    lines.sort(key=lambda line: line.sent_at)
    return lines


def filler(chat: Chat, rng: random.Random) -> str:
    if rng.random() < 0.3:
        template = rng.choice(SMALL_TALK)
    else:
        template = rng.choice(chat.lines)
        if rng.random() < 0.4:
            opener = rng.choice(OPENERS)
            keep = template[1:2].isupper()  # "PR for...", "AWS..." keep their capitals
            template = opener + (template if keep else template[:1].lower() + template[1:])
        if rng.random() < 0.4:
            template += rng.choice(TAILS)
    return template.format(
        name=rng.choice(chat.people),
        day=rng.choice(DAYS),
        time=rng.choice(TIMES),
        n=rng.randint(2, 95),
    )


# --- the export formats -----------------------------------------------------------------------


def whatsapp(lines: list[Line]) -> bytes:
    rows = [f"{line.sent_at:%d/%m/%Y, %H:%M} - {line.sender}: {line.text}" for line in lines]
    return ("\n".join(rows) + "\n").encode("utf-8")


def telegram(chat: Chat, lines: list[Line]) -> bytes:
    ids = {name: 5550100 + n for n, name in enumerate(chat.people)}
    messages = [
        {
            "id": 1000 + n,
            "type": "message",
            "date": f"{line.sent_at:%Y-%m-%dT%H:%M:%S}",
            "date_unixtime": str(int(line.sent_at.timestamp())),
            "from": line.sender,
            "from_id": f"user{ids[line.sender]}",
            "text": line.text,
            "text_entities": [{"type": "plain", "text": line.text}],
        }
        for n, line in enumerate(lines)
    ]
    return _json(
        {"name": chat.name, "type": "private_supergroup", "id": 1764000001, "messages": messages}
    )


def slack(chats: list[tuple[Chat, list[Line]]]) -> bytes:
    people = sorted({p for chat, _ in chats for p in chat.people})
    user_ids = {name: f"U{n + 1:02d}{name.split()[0].upper()[:3]}" for n, name in enumerate(people)}
    files = {
        "users.json": [
            {
                "id": user_ids[name],
                "team_id": "T01",
                "name": name.split()[0].lower(),
                "real_name": name,
                "is_bot": False,
                "profile": {"real_name": name, "display_name": ""},
            }
            for name in people
        ],
        "channels.json": [
            {
                "id": f"C{n + 1:02d}{chat.name.upper()[:3]}",
                "name": chat.name,
                "created": 1704000000,
                "creator": user_ids[chat.people[0]],
                "is_archived": False,
                "is_general": chat.name == "general",
                "members": [user_ids[p] for p in chat.people],
            }
            for n, (chat, _) in enumerate(chats)
        ],
    }
    for chat, lines in chats:
        for n, line in enumerate(lines):
            # Microseconds from the position keep every ts unique within the channel.
            ts = f"{int(line.sent_at.timestamp())}.{n % 1_000_000:06d}"
            files.setdefault(f"{chat.name}/{line.sent_at:%Y-%m-%d}.json", []).append(
                {
                    "client_msg_id": f"{chat.name}-{n}",
                    "type": "message",
                    "text": line.text,
                    "user": user_ids[line.sender],
                    "ts": ts,
                    "team": "T01",
                }
            )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            archive.writestr(
                zipfile.ZipInfo(name, ZIP_TIME), _json(files[name]), zipfile.ZIP_DEFLATED
            )
    return buffer.getvalue()


def discord(chat: Chat, channel_id: int, lines: list[Line]) -> bytes:
    authors = {
        name: {
            "id": str(555000000000000001 + n),
            "name": name.lower(),
            "nickname": name,
            "discriminator": "0000",
            "isBot": False,
        }
        for n, name in enumerate(chat.people)
    }
    messages = [
        {
            "id": str(1235000000000000000 + channel_id % 1000 * 100000 + n),
            "type": "Default",
            "timestamp": line.sent_at.isoformat(timespec="milliseconds"),
            "timestampEdited": None,
            "isPinned": False,
            "content": line.text,
            "author": authors[line.sender],
            "attachments": [],
            "embeds": [],
            "reactions": [],
            "mentions": [],
        }
        for n, line in enumerate(lines)
    ]
    return _json(
        {
            "guild": {"id": "1020304050607000", "name": DISCORD_GUILD},
            "channel": {"id": str(channel_id), "type": "GuildTextChat", "name": chat.name},
            "dateRange": {"after": None, "before": None},
            "messages": messages,
        }
    )


def _json(value) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def build() -> dict[str, bytes]:
    """Every file of the set, by its path relative to the eval folder."""
    rng = random.Random(SEED)
    lines = {chat.key: timeline(chat, rng) for chat in CHATS}
    files: dict[str, bytes] = {}
    slack_chats = []
    for n, chat in enumerate(CHATS):
        if chat.platform == "whatsapp":
            files[f"corpus/WhatsApp Chat with {chat.name}.txt"] = whatsapp(lines[chat.key])
        elif chat.platform == "telegram":
            files["corpus/telegram/result.json"] = telegram(chat, lines[chat.key])
        elif chat.platform == "discord":
            channel_id = 1020304050607100 + n
            name = f"corpus/{DISCORD_GUILD} - {chat.name} [{channel_id}].json"
            files[name] = discord(chat, channel_id, lines[chat.key])
        else:
            slack_chats.append((chat, lines[chat.key]))
    files[f"corpus/{SLACK_WORKSPACE}"] = slack(slack_chats)
    # The chat as the parsers name it (and as ``in:`` must spell it).
    chats = {
        chat.key: (
            chat.platform,
            f"{DISCORD_GUILD} / {chat.name}" if chat.platform == "discord" else chat.name,
        )
        for chat in CHATS
    }
    files["labels.json"] = _json(
        {
            "planted": {
                p.key: {
                    "platform": chats[p.chat][0],
                    "chat": chats[p.chat][1],
                    "sender": p.sender,
                    "date": p.date,
                    "text": p.text,
                }
                for p in PLANTED
            },
            "queries": [{"query": q.text, "finds": list(q.finds)} for q in QUERIES],
        }
    )
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    out = parser.parse_args().out
    for name, data in build().items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
        print(f"wrote {out / name} ({len(data):,} bytes)")


if __name__ == "__main__":
    main()
