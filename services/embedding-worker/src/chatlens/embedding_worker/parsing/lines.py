"""The grammar of one WhatsApp export line: header (date, time, sender) and message kinds.

WhatsApp writes every message as ``<date>, <time> - <sender>: <text>`` (Android) or
``[<date>, <time>] <sender>: <text>`` (iOS), in the phone's locale: day- or month-first dates,
2- or 4-digit years, 12- or 24-hour clocks, and invisible characters (U+200E/U+200F direction
marks, U+202F narrow no-break space before AM/PM) sprinkled in. Lines that do not start with a
header continue the previous message.
"""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal["text", "media", "system", "deleted"]

# Direction marks and embeddings carry no text; iOS puts U+200E before system and media lines.
_INVISIBLE = dict.fromkeys(
    map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"), None
)
# One-for-one replacements, so positions in the marks-free line stay valid after them.
_SPACES = {0x202F: " ", 0x00A0: " ", 0x2009: " ", 0x2007: " "}

HEADER = re.compile(
    r"""
    (?P<open>\[)?
    (?P<d1>\d{1,4})(?P<sep>[./-])(?P<d2>\d{1,2})(?P=sep)(?P<d3>\d{2,4})\.?
    ,?\ +
    (?:(?:klo|kl\.?|à|um|om|alle|a\ las|às)\ +)?  # "1.2.2024 klo 10.00", "01/02/2024 à 10:00"
    (?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.](?P<second>\d{2}))?
    (?:\ ?(?P<ampm>[AaPp])\.?\ ?[Mm]\.?)?
    (?(open)\]\ ?|\ [-\u2013]\ )
    """,
    re.VERBOSE,
)

# A sender is what precedes the first ": " (or a final ":"), up to a sane length.
_SENDER = re.compile(r"(?P<sender>[^:\n]{1,100}?):(?: |$)")

# Android system lines have no "sender:" part, but a few contain ": " later (a new subject);
# their would-be sender then holds one of these lower-case verbs, which a name does not.
_SYSTEM_VERB = re.compile(
    r" (?:changed|created|added|removed|joined|left|deleted|turned|pinned|reset|started)\b"
)
# iOS writes system lines under the chat's own name, marked with U+200E.
_SYSTEM_TEXT = re.compile(
    r"""
    Messages\ and\ calls\ are\ end-to-end\ encrypted
    | Messages\ to\ this\ (?:group|chat)\ are\ now\ secured
    | (?:You|.{1,100}?)\ (?:created\ (?:group|this\ group)|added|removed|left$|joined\ using
        |changed\ (?:the\ subject|the\ group|this\ group|their\ phone|to)
        |deleted\ this\ group|turned\ (?:on|off)\ disappearing|pinned\ a\ message)
    | You(?:\ were\ added|'re\ now\ an\ admin)
    | Your\ security\ code\ with
    """,
    re.VERBOSE,
)
_ENCRYPTION = re.compile(
    r"Messages (?:and calls are|to this (?:group|chat) are now) "
    r"|Los mensajes y las llamadas están cifrados|Nachrichten und Anrufe sind Ende-zu-Ende"
    r"|Les messages et les appels sont chiffrés|As mensagens e as chamadas são protegidas"
    r"|I messaggi e le chiamate sono crittografati|Berichten en oproepen zijn end-to-end"
    r"|Viestit ja puhelut ovat päästä päähän"
)

# The localized markers below were checked (2026-11) against strings in real exports as other
# open-source WhatsApp parsers list and test them, chiefly mlomb/chat-analytics
# (pipeline/parse/parsers/WhatsApp.ts: the Android "<media omitted>" per locale, two spellings
# each) and parsers whose fixtures are real exports in Spanish, German, French, Italian, Dutch,
# Portuguese and Finnish. Markers only one source gave are marked "(one source)".

# The marker WhatsApp appends to an edited message, per locale.
_EDITED = re.compile(
    r"\s*<(?:This message was edited|Se editó este mensaje\.?|Diese Nachricht wurde bearbeitet\.?"
    r"|Ce message a été modifié\.?|Mensagem editada|Esta mensagem foi editada"
    r"|Questo messaggio è stato modificato|Dit bericht is bewerkt"
    r"|Tätä viestiä on muokattu|Muokattu)>$"  # Finnish: one source
)
EDITED_MARKER = "<This message was edited>"
# Compared without a final full stop, which some app versions write and others do not.
_DELETED = frozenset(
    {
        "This message was deleted",
        "You deleted this message",
        "Se eliminó este mensaje",
        "Eliminaste este mensaje",
        "Este mensaje fue eliminado",
        "Diese Nachricht wurde gelöscht",
        "Du hast diese Nachricht gelöscht",
        "Ce message a été supprimé",
        "Vous avez supprimé ce message",
        "Esta mensagem foi apagada",
        "Você apagou esta mensagem",
        "Mensagem apagada",
        "Questo messaggio è stato eliminato",
        "Hai eliminato questo messaggio",
        "Dit bericht is verwijderd",
        "Je hebt dit bericht verwijderd",
        "Tämä viesti poistettiin",
        "Poistit tämän viestin",
    }
)
_MEDIA = re.compile(
    r"""
    # Android, per locale (either case: WhatsApp has shipped both).
    (?i:<(?:media\ omitted|multimedia\ omitido|archivo\ omitido|medien\ ausgeschlossen
          |medien\ weggelassen|médias\ omis|fichier\ omis|mídia\ oculta|mídia\ omitida
          |arquivo\ de\ mídia\ oculto|ficheiro\ não\ revelado|media\ omessi|media\ omesso
          |media\ weggelaten|media\ jätettiin\ pois|media\ jätetty\ pois
          |mediaa\ ei\ sisällytetty)>)
    # iOS names the kind of media, per locale.
    | (?:image|video|audio|sticker|GIF|document|Contact\ card|vCard)\ omitted
    | (?:imagen|video|audio|sticker|GIF|documento)\ omitid[oa]
    | (?:Bild|Video|Audio|Sticker|GIF|Dokument)\ weggelassen
    | (?:image|vidéo)\ absente | (?:audio|sticker|document)\ omis | GIF\ retiré  # one source
    | (?:imagem|vídeo|áudio|figurinha|documento)\ (?:ocultad|omitid)[oa]
    | (?:immagine|video|audio|sticker|documento)\ omess[oa] | GIF\ esclusa
    | (?:afbeelding|video|audio|sticker|GIF|document)\ weggelaten  # one source
    | <(?:attached|adjunto|Anhang|pièce\ jointe|anexo|allegato|bijgevoegd|liite)\ ?:\ ?
        (?P<name>[^>\n]+)>
    """,
    re.VERBOSE,
)
# Android names an attached file on the first line; a caption may follow on the next ones.
_FILE_ATTACHED = re.compile(
    r"(?P<name>[^\n]+) \((?:file attached|archivo adjunto|Datei angehängt|fichier joint"
    r"|arquivo anexado|file allegato|bestand bijgevoegd|tiedosto liitetty)\)(?:\n|$)"
)
# A non-contact is written "~ Name" (with a narrow or plain space) in newer exports.
_NON_CONTACT = re.compile(r"^~\s*")


def strip_marks(line: str) -> str:
    """The line without direction marks and BOMs (positions then match :func:`normalise`)."""
    return line.translate(_INVISIBLE)


def normalise(marks_free: str) -> str:
    """Exotic spaces to plain ones, character for character, for matching the header."""
    return marks_free.translate(_SPACES)


def split_sender(
    rest: str, *, marked: bool, chat: str | None = None
) -> tuple[str | None, str, bool]:
    """``(sender, text, is_system)`` of what follows a header.

    ``marked`` says the raw line had a U+200E, which iOS puts on system lines; ``chat`` is the
    chat's name, under which iOS writes a group's system lines as if it were their author.
    """
    match = _SENDER.match(rest)
    if match is None:
        return None, rest, True
    sender = _NON_CONTACT.sub("", normalise(match["sender"]).strip())
    text = rest[match.end() :]
    if " " in sender and _SYSTEM_VERB.search(sender):
        return None, rest, True
    if _ENCRYPTION.match(text) or ((marked or sender == chat) and _SYSTEM_TEXT.match(text)):
        return None, text, True
    return sender, text, False


def attachment_name(text: str) -> str | None:
    """The file name a media message names ("<attached: X>", "X (file attached)"), if any."""
    match = _MEDIA.fullmatch(text) or _FILE_ATTACHED.match(text)
    return match["name"].strip() if match and match["name"] else None


def classify(text: str, is_system: bool) -> tuple[Kind, str, bool]:
    """``(kind, text without the edit marker, edited)`` of a complete message text."""
    edited = False
    if text.endswith(">") and (marker := _EDITED.search(text)):
        text, edited = text[: marker.start()].rstrip(), True
    if is_system:
        return "system", text, edited
    if text.removesuffix(".") in _DELETED:
        return "deleted", text, edited
    if _MEDIA.fullmatch(text) or _FILE_ATTACHED.match(text):
        return "media", text, edited
    return "text", text, edited
