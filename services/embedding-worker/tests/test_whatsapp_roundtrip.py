"""Property: any chat, rendered in any WhatsApp layout and clock, parses back to itself."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chatlens.embedding_worker.parsing import lines
from chatlens.embedding_worker.parsing.whatsapp import WhatsAppExport

NNBSP = "\u202f"
ENCRYPTION = (
    "Messages and calls are end-to-end encrypted. No one outside of this chat, not even "
    "WhatsApp, can read or listen to them. Tap to learn more."
)


def _h12(moment: datetime) -> tuple[int, str]:
    return (moment.hour % 12 or 12), ("AM" if moment.hour < 12 else "PM")


def android_24h_dots(m: datetime) -> str:
    return f"{m:%d.%m.%y}, {m:%H:%M} - "


def android_24h_slashes(m: datetime) -> str:
    return f"{m:%d/%m/%Y}, {m:%H:%M} - "


def android_12h_us(m: datetime) -> str:
    hour, half = _h12(m)
    return f"{m.month}/{m.day}/{m:%y}, {hour}:{m:%M}{NNBSP}{half} - "


def ios_24h(m: datetime) -> str:
    return f"[{m:%d/%m/%Y}, {m:%H:%M:%S}] "


def ios_12h_us(m: datetime) -> str:
    hour, half = _h12(m)
    return f"[{m.month}/{m.day}/{m:%y}, {hour}:{m:%M:%S} {half}] "


def android_finnish_klo(m: datetime) -> str:
    return f"{m.day}.{m.month}.{m:%Y} klo {m.hour}.{m:%M} - "


def android_french_a(m: datetime) -> str:
    return f"{m:%d/%m/%Y} à {m:%H:%M} - "


def android_12h_spanish(m: datetime) -> str:
    hour, half = _h12(m)
    return f"{m.day}/{m.month}/{m:%y}, {hour}:{m:%M}{NNBSP}{half[0].lower()}.\u00a0m. - "


def android_iso(m: datetime) -> str:
    return f"{m:%Y-%m-%d}, {m:%H:%M} - "


def ios_12h_dashes_dotted(m: datetime) -> str:
    hour, half = _h12(m)
    return f"[{m:%d-%m-%Y} {hour}:{m:%M:%S} {half[0].lower()}.m.] "


@dataclass(frozen=True)
class Layout:
    render: object
    month_first: bool
    seconds: bool


LAYOUTS = {
    "android-24h-dots": Layout(android_24h_dots, False, False),
    "android-24h-slashes": Layout(android_24h_slashes, False, False),
    "android-12h-us": Layout(android_12h_us, True, False),
    "ios-24h": Layout(ios_24h, False, True),
    "ios-12h-us": Layout(ios_12h_us, True, True),
    "android-finnish-klo": Layout(android_finnish_klo, False, False),
    "android-french-a": Layout(android_french_a, False, False),
    "android-12h-spanish": Layout(android_12h_spanish, False, False),
    "android-iso": Layout(android_iso, False, False),
    "ios-12h-dashes-dotted": Layout(ios_12h_dashes_dotted, False, True),
}

# Names are capitalised words (system lines use lower-case verbs, "Ana left", never "Ana Left").
name_word = st.builds(
    lambda head, tail: head + tail,
    st.characters(categories=("Lu",)),
    st.text(st.characters(categories=("Ll",)), max_size=8),
)
senders = st.lists(name_word, min_size=1, max_size=3).map(" ".join)
text_line = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Cf", "Zl", "Zp")),
    min_size=1,
    max_size=40,
)
texts = st.lists(text_line, min_size=1, max_size=3).map(lambda parts: "\n".join(parts).strip())
moments = st.datetimes(min_value=datetime(2009, 1, 1), max_value=datetime(2099, 12, 31))


@st.composite
def chats(draw):
    layout_name = draw(st.sampled_from(sorted(LAYOUTS)))
    layout = LAYOUTS[layout_name]
    people = draw(st.lists(senders, min_size=1, max_size=4, unique=True))
    count = draw(st.integers(min_value=1, max_value=12))
    times = draw(st.lists(moments, min_size=count, max_size=count))
    if layout.month_first:
        # A month-first file is only recognisable if some day is past the 12th.
        times[0] = times[0].replace(day=draw(st.integers(min_value=13, max_value=28)))
    times = sorted(
        t.replace(microsecond=0, second=t.second if layout.seconds else 0) for t in times
    )
    messages = [(draw(st.sampled_from(people)), draw(texts), t) for t in times]
    return layout_name, messages, draw(st.booleans()), draw(st.sampled_from([None, "Asia/Kolkata"]))


def _is_plain(text: str) -> bool:
    """A text the parser should keep as it is: not a media/deleted/system sentence."""
    kind, kept, edited = lines.classify(text, False)
    first, *rest = text.split("\n")
    return (
        bool(text)
        and kind == "text"
        and kept == text
        and not edited
        and lines.split_sender(f"Ana: {first}", marked=False)[0] == "Ana"
        and not any(lines.HEADER.match(lines.normalise(part)) for part in rest)
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chats())
def test_a_rendered_chat_parses_back_to_the_same_senders_texts_and_times(chat):
    layout_name, messages, with_notice, zone = chat
    assume(all(_is_plain(text) for _, text, _ in messages))
    render = LAYOUTS[layout_name].render
    body = [render(messages[0][2]) + ENCRYPTION] if with_notice else []
    body += [f"{render(moment)}{sender}: {text}" for sender, text, moment in messages]

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "WhatsApp Chat with Property.txt"
        path.write_text("\n".join(body) + "\n", encoding="utf-8")
        export = WhatsAppExport(path, timezone=zone)
        parsed = list(export.messages())

    if with_notice:
        notice, *parsed = parsed
        assert (notice.kind, notice.sender) == ("system", None)
    tz = ZoneInfo(zone) if zone else UTC
    assert [(m.sender, m.text, m.sent_at, m.kind) for m in parsed] == [
        (sender, text, moment.replace(tzinfo=tz).astimezone(UTC), "text")
        for sender, text, moment in messages
    ]
    assert export.layout.format == (
        "whatsapp-ios" if layout_name.startswith("ios") else "whatsapp-android"
    )
    assert export.diagnostics.skipped_lines == 0
