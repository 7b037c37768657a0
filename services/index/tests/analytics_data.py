"""A generated chat history for analytics: normalised messages with everything a report counts.

Several chats on several platforms, senders with different habits, quiet weeks, sessions split by
silences, native replies, threads, @mentions, emoji, links, media, edits, deletions and system
events, spread across daylight-saving changes. Deterministic for a seed; shared by the
correctness tests and the bench.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from chatlens.shared.schemas import Attachment, ChatMessage

CHATS = [
    ("whatsapp", "Family"),
    ("whatsapp", "Trip to Porto"),
    ("telegram", "Book club"),
    ("slack", "#ops"),
]
SENDERS = ["Marta", "Inês", "João", "Sam", "Ana Lúcia", "Wei"]
WORDS = (
    "ok sure tomorrow dinner train late coffee book chapter deploy server green build "
    "see you soon thanks maybe later porto beach tickets price"
).split()
EMOJI = ["😂", "👍", "❤️", "🎉", "👨‍👩‍👧", "🇵🇹"]
START = datetime(2024, 3, 20, 8, 0, tzinfo=UTC)  # spans the EU and US DST changes


def generate(count: int, seed: int = 7) -> list[ChatMessage]:
    """``count`` messages in time order; ids ``m<seq>``."""
    rng = random.Random(seed)
    # Mentions and threads draw from their own generator, so the rest stays as it was.
    extra = random.Random(seed + 1)
    weights = [rng.uniform(0.2, 3.0) for _ in SENDERS]
    moment = START
    out: list[ChatMessage] = []
    for seq in range(count):
        # Mostly seconds to minutes apart, sometimes hours, rarely days of silence.
        roll = rng.random()
        step = (
            rng.expovariate(1 / 90)
            if roll < 0.9
            else rng.uniform(1800, 6 * 3600)
            if roll < 0.995
            else rng.uniform(86400, 9 * 86400)
        )
        moment += timedelta(seconds=int(step) + 1)
        platform, chat = CHATS[rng.randrange(len(CHATS))]
        sender = rng.choices(SENDERS, weights)[0]
        kind, text, attachments = "text", " ".join(rng.choices(WORDS, k=rng.randint(1, 14))), []
        roll = rng.random()
        if roll < 0.03:
            kind, sender, text = "system", None, f"{rng.choice(SENDERS)} joined"
        elif roll < 0.05:
            kind, text = "media", ""
            attachments = [Attachment(name=f"IMG-{seq}.jpg", type="photo")]
        elif roll < 0.06:
            kind, text = "deleted", "This message was deleted"
        elif roll < 0.10:
            text += f" https://example.org/{seq}"
        elif roll < 0.11:
            text = f"see www.example.com/{seq}"
        if kind == "text" and rng.random() < 0.15:
            text += " " + "".join(rng.choices(EMOJI, k=rng.randint(1, 3)))
        reply_to = None
        if out and kind == "text" and rng.random() < 0.12:
            reply_to = out[rng.randrange(max(0, len(out) - 30), len(out))].message_id
        if kind == "text" and extra.random() < 0.05:
            named = extra.choice(SENDERS)
            text += f" @{named.lower() if extra.random() < 0.3 else named}"
        thread_id = None
        if chat == "#ops" and kind == "text" and extra.random() < 0.4:
            recent = [i for i in range(max(0, len(out) - 40), len(out)) if out[i].chat == chat]
            if recent:  # joins the thread of a recent message, which becomes its root
                at = extra.choice(recent)
                thread_id = out[at].thread_id or out[at].message_id
                if out[at].thread_id is None:
                    out[at] = out[at].model_copy(update={"thread_id": thread_id})
        out.append(
            ChatMessage(
                message_id=f"m{seq}",
                platform=platform,
                chat=chat,
                sender=sender,
                sent_at=moment,
                tz_assumption="UTC",
                kind=kind,
                text=text,
                seq=seq,
                source_file="generated.txt",
                source_line=seq + 1,
                edited=kind == "text" and rng.random() < 0.04,
                deleted=kind == "deleted",
                reply_to=reply_to,
                attachments=attachments,
                thread_id=thread_id,
                sender_id=None if sender is None else f"id-{sender}",
            )
        )
    return out
