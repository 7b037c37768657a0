"""Slack's mrkdwn tokens resolved to what a person reads: ``<@U123>`` to ``@Ana``, and so on."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

_TOKEN = re.compile(r"<([^<>\n]{1,500})>")


def resolve(text: str, users: Mapping[str, str], channels: Mapping[str, str]) -> str:
    """``text`` with user, channel, special-mention and link tokens resolved, then unescaped.

    ``users`` maps a user id to its display name, ``channels`` a channel id to its name; an id
    not in them keeps the label the token carries, else the id itself.
    """

    def token(match: re.Match[str]) -> str:
        body = match[1]
        target, _, label = body.partition("|")
        if target.startswith("@"):
            return "@" + users.get(target[1:], label or target[1:])
        if target.startswith("#"):
            return "#" + (label or channels.get(target[1:], target[1:]))
        if target.startswith("!"):
            word = target[1:]
            if word.startswith("subteam^"):
                return label or "@" + word.removeprefix("subteam^")
            if word.startswith("date^"):
                return label or word
            return label or "@" + word  # <!here>, <!channel>, <!everyone>
        bare = target.removeprefix("mailto:")
        if label and label not in (target, bare):
            return f"{label} ({bare})"
        return bare

    # Slack escapes only &, < and > in the raw text; tokens are the only unescaped <...>.
    return html.unescape(_TOKEN.sub(token, text)) if "<" in text or "&" in text else text
