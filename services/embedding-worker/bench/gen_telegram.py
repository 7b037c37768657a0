"""Write a Telegram Desktop ``result.json`` of a given size, for the parser's memory benchmark.

    python gen_telegram.py OUT.json --mb 200

Messages are varied enough (texts, mixed-array texts with entities, replies, edits, reactions,
photos, service events) to exercise every branch of the parser, and written one at a time.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

WORDS = (
    "climb wall route crimp sloper beta project send flash session gym chalk rope belay "
    "lunch ramen saturday morning tired strong finger warmup campus board"
).split()


def message(i: int, rng: random.Random) -> dict:
    unix = 1_700_000_000 + i * 37
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 30)))
    base = {
        "id": i,
        "type": "message",
        "date": "2023-11-14T22:13:20",
        "date_unixtime": str(unix),
        "from": rng.choice(("Ines Duarte", "Tomas Weber", "Ana Lima")),
        "from_id": f"user{rng.randint(1, 3)}",
    }
    roll = i % 10
    if roll == 0:
        return {
            **base,
            "type": "service",
            "actor": base.pop("from"),
            "actor_id": base["from_id"],
            "action": "pin_message",
            "message_id": i - 1,
            "text": "",
            "text_entities": [],
        }
    if roll == 1:
        parts = [text[:10], {"type": "link", "text": "https://example.org/" + str(i)}, text[10:]]
        return {
            **base,
            "text": parts,
            "text_entities": [
                {"type": "plain", "text": parts[0]},
                parts[1],
                {"type": "plain", "text": parts[2]},
            ],
            "reply_to_message_id": i - 1,
            "edited": base["date"],
            "edited_unixtime": str(unix + 5),
            "reactions": [{"type": "emoji", "count": 1, "emoji": "\U0001f44d", "recent": []}],
        }
    if roll == 2:
        return {
            **base,
            "photo": f"photos/photo_{i}.jpg",
            "photo_file_size": 1000 + i,
            "width": 800,
            "height": 600,
            "text": text,
            "text_entities": [{"type": "plain", "text": text}],
        }
    return {**base, "text": text, "text_entities": [{"type": "plain", "text": text}]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--mb", type=float, default=200.0)
    args = parser.parse_args()
    rng = random.Random(7)
    limit = int(args.mb * 1024 * 1024)
    with args.out.open("w", encoding="utf-8") as out:
        out.write(
            '{\n "name": "Bench Crew",\n "type": "private_supergroup",\n "id": 42,\n'
            ' "messages": [\n'
        )
        i, written = 1, 0
        while written < limit:
            record = json.dumps(message(i, rng), ensure_ascii=False)
            chunk = ("" if i == 1 else ",\n") + "  " + record
            out.write(chunk)
            written += len(chunk.encode("utf-8"))
            i += 1
        out.write("\n ]\n}\n")
    print(f"{args.out}: {i - 1} messages, {args.out.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
