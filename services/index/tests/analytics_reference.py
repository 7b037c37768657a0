"""The overview and people reports recomputed in plain Python, independently of DuckDB and of the
index's columns: what the analytics tests compare every number against."""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from datetime import timedelta
from zoneinfo import ZoneInfo

import emoji
import regex

from chatlens.shared.schemas import ChatMessage

EVENTS = {"system", "service"}
LINK = re.compile(r"https?://|www\.", re.IGNORECASE)


def authored(messages: list[ChatMessage]) -> list[ChatMessage]:
    return [m for m in messages if m.kind not in EVENTS]


def _busiest(counter: Counter):
    return min(counter.items(), key=lambda item: (-item[1], item[0]))


def overview(messages: list[ChatMessage], zone: str) -> dict:
    tz = ZoneInfo(zone)
    own = authored(messages)
    local = [m.sent_at.astimezone(tz) for m in own]
    days = sorted({t.date() for t in local})
    streak, best = 1, (1, days[0], days[0])
    for before, day in zip(days, days[1:], strict=False):
        streak = streak + 1 if day - before == timedelta(days=1) else 1
        if streak > best[0]:
            best = (streak, day - timedelta(days=streak - 1), day)
    times = sorted(m.sent_at for m in own)
    gaps = [(b - a, a) for a, b in zip(times, times[1:], strict=False)]
    silence = max(gaps, key=lambda g: (g[0], -g[1].timestamp()))
    span = (max(local).date() - min(local).date()).days + 1
    return {
        "messages": len(own),
        "words": sum(len(m.text.split()) for m in own),
        "participants": len({m.sender for m in own if m.sender is not None}),
        "chats": len({m.chat for m in own}),
        "first": min(times),
        "last": max(times),
        "active_days": len(days),
        "span_days": span,
        "average_per_day": len(own) / span,
        "average_per_active_day": len(own) / len(days),
        "busiest_day": _busiest(Counter(t.date() for t in local)),
        "busiest_hour": _busiest(Counter(t.hour for t in local)),
        "busiest_weekday": _busiest(Counter(t.isoweekday() for t in local)),
        "busiest_month": _busiest(Counter(t.strftime("%Y-%m") for t in local)),
        "longest_streak": best,
        "longest_silence": (silence[1], silence[0].total_seconds()),
        "media": sum(m.kind == "media" or bool(m.attachments) for m in own),
        "links": sum(bool(LINK.search(m.text)) for m in own),
        "edited": sum(m.edited for m in own),
        "deleted": sum(m.deleted or m.kind == "deleted" for m in own),
        "system_events": sum(m.kind in EVENTS for m in messages),
    }


def sessions(messages: list[ChatMessage], gap: timedelta) -> list[list[ChatMessage]]:
    """Each chat's authored messages in order, split where the silence exceeds ``gap``."""
    by_chat: dict[str, list[ChatMessage]] = defaultdict(list)
    for m in sorted(authored(messages), key=lambda m: (m.sent_at, m.seq, m.message_id)):
        by_chat[m.chat].append(m)
    out = []
    for chat_messages in by_chat.values():
        current = [chat_messages[0]]
        for before, m in zip(chat_messages, chat_messages[1:], strict=False):
            if m.sent_at - before.sent_at > gap:
                out.append(current)
                current = []
            current.append(m)
        out.append(current)
    return out


def people(messages: list[ChatMessage], zone: str, gap: timedelta) -> dict[str, dict]:
    tz = ZoneInfo(zone)
    own = authored(messages)
    by_id = {m.message_id: m for m in own}
    out: dict[str, dict] = {}
    for sender in {m.sender for m in own if m.sender is not None}:
        mine = [m for m in own if m.sender == sender]
        out[sender] = {
            "messages": len(mine),
            "words": sum(len(m.text.split()) for m in mine),
            "average_length": statistics.fmean(len(m.text) for m in mine),
            "media": sum(m.kind == "media" or bool(m.attachments) for m in mine),
            "links": sum(bool(LINK.search(m.text)) for m in mine),
            "emoji": sum(emoji.emoji_count(m.text) for m in mine),
            "first_seen": min(m.sent_at for m in mine),
            "last_seen": max(m.sent_at for m in mine),
            "active_days": len({m.sent_at.astimezone(tz).date() for m in mine}),
            "share": len(mine) / len(own),
            "conversations_started": 0,
            "conversations_ended": 0,
            "replies_given": 0,
            "replies_received": 0,
            "responses": [],
        }
    for session in sessions(messages, gap):
        if session[0].sender is not None:
            out[session[0].sender]["conversations_started"] += 1
        if session[-1].sender is not None:
            out[session[-1].sender]["conversations_ended"] += 1
        for before, m in zip(session, session[1:], strict=False):
            if m.sender is not None and m.sender != before.sender:
                out[m.sender]["responses"].append((m.sent_at - before.sent_at).total_seconds())
    for m in own:
        target = by_id.get(m.reply_to) if m.reply_to else None
        if target is not None:
            if m.sender is not None:
                out[m.sender]["replies_given"] += 1
            if target.sender is not None:
                out[target.sender]["replies_received"] += 1
    for person in out.values():
        responses = person.pop("responses")
        person["median_response_seconds"] = statistics.median(responses) if responses else None
    return out


def _pairs(cells: dict) -> dict:
    """{(sender, recipient): [waits]} -> {(sender, recipient): (count, median wait)}."""
    return {pair: (len(waits), statistics.median(waits)) for pair, waits in cells.items()}


def interaction(messages: list[ChatMessage], gap: timedelta) -> dict:
    """Reply and turn-taking matrices with median waits, mentions, threads and reply trees."""
    own = authored(messages)
    by_id = {m.message_id: m for m in own}
    replies: dict = defaultdict(list)
    for m in own:
        target = by_id.get(m.reply_to) if m.reply_to else None
        if target is not None and m.sender is not None and target.sender is not None:
            replies[(m.sender, target.sender)].append((m.sent_at - target.sent_at).total_seconds())
    responses: dict = defaultdict(list)
    for session in sessions(messages, gap):
        for before, m in zip(session, session[1:], strict=False):
            if None not in (m.sender, before.sender) and m.sender != before.sender:
                responses[(m.sender, before.sender)].append(
                    (m.sent_at - before.sent_at).total_seconds()
                )
    names = {m.sender for m in own if m.sender is not None}
    mentions: Counter = Counter()
    for m in own:
        if m.sender is None or m.deleted or m.kind == "deleted":
            continue
        for name in names - {m.sender}:
            if re.search("@" + re.escape(name) + r"(?!\w)", m.text, re.IGNORECASE):
                mentions[(m.sender, name)] += 1
    threads: dict = defaultdict(list)
    for m in own:
        if m.thread_id is not None:
            threads[m.thread_id].append(m)
    # Reply trees: climb from every message to the message it finally answers.
    children: dict = defaultdict(list)
    for m in own:
        if m.reply_to in by_id:
            children[m.reply_to].append(m.message_id)

    def size_depth(message_id: str) -> tuple[int, int]:
        below = [size_depth(c) for c in children[message_id]]
        return 1 + sum(s for s, _ in below), 1 + max((d for _, d in below), default=0)

    roots = [m for m in own if m.message_id in children and m.reply_to not in by_id]
    trees = {m.message_id: size_depth(m.message_id) for m in roots}
    return {
        "replies": _pairs(replies),
        "responses": _pairs(responses),
        "mentions": dict(mentions),
        "threads": dict(threads),
        "trees": trees,
    }


WORD = regex.compile(r"[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*")
LINK_TEXT = re.compile(r"(?i)\b(?:https?://|www\.)\S*")
DOMAIN = re.compile(r"(?i)\b(?:https?://|www\.)([^\s/?#:]+)")


def language(messages: list[ChatMessage], stop: set[str]) -> dict:
    """Word, phrase, emoji and domain counts (all of them, not only the top)."""
    kept = [m for m in authored(messages) if not (m.deleted or m.kind == "deleted")]

    def content(word: str) -> bool:
        return len(word) >= 2 and any(c.isalpha() for c in word) and word not in stop

    words: Counter = Counter()
    phrases: Counter = Counter()
    emojis: Counter = Counter()
    domains: Counter = Counter()
    for m in kept:
        tokens = WORD.findall(LINK_TEXT.sub(" ", m.text).lower())
        words.update(w for w in tokens if content(w))
        phrases.update(
            f"{a} {b}"
            for a, b in zip(tokens, tokens[1:], strict=False)
            if content(a) and content(b)
        )
        emojis.update(e["emoji"] for e in emoji.emoji_list(m.text))
        for host in DOMAIN.findall(m.text.lower()):
            host = host.removeprefix("www.").rstrip(".,;!")
            if host:
                domains[host] += 1
    return {"words": words, "phrases": phrases, "emoji": emojis, "domains": domains}


def calendar(messages: list[ChatMessage], zone: str, year: int) -> Counter:
    tz = ZoneInfo(zone)
    return Counter(
        d for d in (m.sent_at.astimezone(tz).date() for m in authored(messages)) if d.year == year
    )
