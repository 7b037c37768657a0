"""People across platforms: which sender names look like one person, with the evidence.

Reports count by the sender's name, so "Marta" on WhatsApp and "Marta" on Telegram are already
one; what they cannot see is one person written differently: "~ Marta" (WhatsApp's unsaved
contact), "marta", "Inês" and "Ines", "+351 912 345 678" and "+351912345678", "ana@example.com"
and "Ana", or a first name alone ("Ana") beside the full one ("Ana Souza"). Each suggestion names
the senders, why (``same name`` once case, accents, ``~`` and punctuation are set aside; ``same
phone number``; ``same handle``: an address's local part; ``first name``: a one-word name that is
another's first word, a weaker hint; ``real name``: a sender's other name, Slack's real name
beside its display name, is another's name), and what each sender is (platforms, chats,
messages, first and last seen), so a person can confirm it.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict

import duckdb
import regex

from chatlens.index.analytics.sql import rows

_PHONE = regex.compile(r"\+?[\d\s\-().]{7,}")
_NOT_WORD = regex.compile(r"[^\p{L}\p{N}\s]+")


def name_key(name: str) -> str:
    """``name`` without case, accents, a leading ``~``, punctuation or repeated spaces."""
    decomposed = unicodedata.normalize("NFKD", name.strip().lstrip("~").strip())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", plain.casefold()).split())


def key(sender: str) -> tuple[str, str] | None:
    """What ties ``sender`` to others: ("phone", its digits), ("handle", an address's local
    part as a name) or ("name", the name without case, accents and punctuation)."""
    if _PHONE.fullmatch(sender.strip()):
        digits = "".join(c for c in sender if c.isdigit())
        return ("phone", digits) if len(digits) >= 7 else None
    if "@" in sender and not sender.startswith("@"):
        local = name_key(sender.split("@", 1)[0].replace(".", " ").replace("_", " "))
        return ("handle", local) if local else None
    name = name_key(sender)
    return ("name", name) if name else None


def identities(con: duckdb.DuckDBPyConnection, limit: int) -> dict:
    """Up to ``limit`` suggestions, the most messages first."""
    senders = {
        r["sender"]: r
        for r in rows(
            con,
            """
        SELECT sender, list(DISTINCT platform ORDER BY platform) AS platforms,
               count(DISTINCT chat) AS chats, count(*) AS messages,
               min(sent_at) AS first_seen, max(sent_at) AS last_seen
        FROM authored WHERE sender IS NOT NULL GROUP BY sender""",
        )
    }
    phones: dict[str, set[str]] = defaultdict(set)
    names: dict[str, set[str]] = defaultdict(set)  # handles' local parts share the names' keys
    handles: set[str] = set()
    for sender in senders:
        found = key(sender)
        if found is not None:
            (phones if found[0] == "phone" else names)[found[1]].add(sender)
            if found[0] == "handle":
                handles.add(sender)
    linked: dict[frozenset[str], set[str]] = defaultdict(set)
    for group in phones.values():
        if len(group) > 1:
            linked[frozenset(group)].add("same phone number")
    for group in names.values():
        if len(group) > 1:
            if group & handles:
                linked[frozenset(group)].add("same handle")
            if len(group - handles) > 1:
                linked[frozenset(group)].add("same name")
    # Other names (Slack's real name beside the display name shown): a sender whose other name
    # is another sender's name, or another's other name.
    aliased: dict[str, set[str]] = defaultdict(set)
    for row in rows(
        con,
        """
            SELECT DISTINCT sender, sender_alias FROM authored
            WHERE sender IS NOT NULL AND sender_alias IS NOT NULL""",
    ):
        alias = name_key(row["sender_alias"])
        if alias:
            aliased[alias].add(row["sender"])
    for alias, group in aliased.items():
        tied = group | names.get(alias, set())
        if len(tied) > 1:
            linked[frozenset(tied)].add("real name")
    # First names: a one-word name that is the first word of a longer one (each pair apart:
    # "Ana" may be Ana Souza or Ana Lúcia).
    longer: dict[str, list[str]] = defaultdict(list)
    for name in names:
        if " " in name:
            longer[name.split(" ", 1)[0]].append(name)
    for short, group in names.items():
        for long in longer.get(short, []):
            linked[frozenset(group | names[long])].add("first name")
    # A group inside a larger one with the same evidence says nothing more.
    kept = {g: e for g, e in linked.items() if not any(g < h and e <= f for h, f in linked.items())}
    suggestions = [
        {
            "senders": [senders[s] for s in sorted(group)],
            "evidence": sorted(evidence),
            "messages": sum(senders[s]["messages"] for s in group),
        }
        for group, evidence in kept.items()
    ]
    suggestions.sort(key=lambda s: (-s["messages"], [p["sender"] for p in s["senders"]]))
    return {"suggestions": suggestions[:limit], "total": len(suggestions), "senders": len(senders)}
