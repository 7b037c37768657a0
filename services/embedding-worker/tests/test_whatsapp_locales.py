"""WhatsApp exports from other locales and app versions.

Words between date and time, dotted 12-hour markers, ISO dates, non-contacts, unmarked iOS system
lines, localized media markers and deletions.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chatlens.embedding_worker.parsing import lines, parse_any


def parse(fixtures_dir, name, **options):
    result = parse_any(fixtures_dir / name, **options)
    return result, list(result.messages)


def test_finnish_klo_with_dotted_times(fixtures_dir):
    result, messages = parse(fixtures_dir, "WhatsApp Chat with Kahvila.txt")

    assert [m.kind for m in messages] == ["system", "text", "text", "media", "deleted"]
    assert messages[3].sent_at == datetime(2023, 3, 13, 9, 2, tzinfo=UTC)
    assert messages[1].original_timestamp == "12.3.2023 klo 14.06"
    assert messages[4].deleted and not messages[4].embeddable
    assert result.diagnostics.as_stats()["date_order"] == "day-first"


def test_french_a_with_non_contacts_and_a_captioned_file(fixtures_dir):
    _, messages = parse(fixtures_dir, "WhatsApp Chat with Marché.txt")

    assert [m.sender for m in messages] == [None, "Julie", "Marc", "Marc", "Julie", "Julie"]
    assert [m.kind for m in messages] == ["system", "text", "text", "media", "media", "deleted"]
    assert [a.name for a in messages[3].attachments] == ["IMG-20230313-WA0002.jpg"]
    assert messages[3].text.endswith("\nla liste des courses")


def test_spanish_a_m_p_m_with_narrow_spaces_and_an_edit_marker(fixtures_dir):
    result, messages = parse(fixtures_dir, "WhatsApp Chat with Cumple Marta.txt")

    assert [m.sent_at.hour for m in messages] == [9, 9, 13, 13, 23]
    assert [m.kind for m in messages] == ["text", "text", "media", "deleted", "text"]
    assert (messages[4].text, messages[4].edited) == ("Feliz cumple, Marta", True)
    assert result.diagnostics.as_stats()["clock"] == "12h"


def test_ios_dashed_dates_dotted_am_pm_and_group_name_system_lines(fixtures_dir):
    _, messages = parse(fixtures_dir, "WhatsApp Chat - Hiking.txt")

    # Written under the group's name without a direction mark, still system lines.
    assert [(m.kind, m.sender) for m in messages[:2]] == [("system", None), ("system", None)]
    assert messages[3].sender == "Bea"  # "~ Bea": a non-contact
    assert messages[4].sent_at == datetime(2023, 3, 12, 13, 30, tzinfo=UTC)
    assert [a.name for a in messages[4].attachments] == ["00000012-PHOTO-2023-03-12-13-30-00.jpg"]
    assert (messages[5].kind, messages[5].text) == ("media", "image omitted")


def test_iso_dates_are_year_first(fixtures_dir):
    result, messages = parse(fixtures_dir, "iso-dates.txt")

    assert [m.sent_at for m in messages] == [
        datetime(2024, 3, 12, 14, 5, tzinfo=UTC),
        datetime(2024, 3, 13, 8, 0, tzinfo=UTC),
    ]
    assert result.diagnostics.as_stats()["date_order"] == "year-first"


@pytest.mark.parametrize(
    ("text", "kind", "edited"),
    [
        # Markers as real exports write them (see the sources in parsing/lines.py).
        ("Ciao <Questo messaggio è stato modificato>", "text", True),
        ("Hoi <Dit bericht is bewerkt>", "text", True),
        ("Olá <Esta mensagem foi editada>", "text", True),
        ("Moi <Tätä viestiä on muokattu>", "text", True),
        ("Hola <Se editó este mensaje.>", "text", True),
        ("<Media omesso>", "media", False),
        ("<Medien weggelassen>", "media", False),
        ("<Archivo omitido>", "media", False),
        ("<Fichier omis>", "media", False),
        ("<Mídia omitida>", "media", False),
        ("<media jätetty pois>", "media", False),
        ("<Media weggelaten>", "media", False),
        ("documento omitido", "media", False),
        ("Dokument weggelassen", "media", False),
        ("immagine omessa", "media", False),
        ("afbeelding weggelaten", "media", False),
        ("Diese Nachricht wurde gelöscht", "deleted", False),
        ("Diese Nachricht wurde gelöscht.", "deleted", False),
        ("Este mensaje fue eliminado", "deleted", False),
        ("Tämä viesti poistettiin.", "deleted", False),
    ],
)
def test_localized_markers(text, kind, edited):
    found, _, was_edited = lines.classify(text, is_system=False)

    assert (found, was_edited) == (kind, edited)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("<Anhang: 00000003-PHOTO-2024-01-17.jpg>", "00000003-PHOTO-2024-01-17.jpg"),
        ("<pièce jointe : 00000004-AUDIO-2024-01-17.opus>", "00000004-AUDIO-2024-01-17.opus"),
        ("<anexo: recibo.pdf>", "recibo.pdf"),
        ("<allegato: audio.opus>", "audio.opus"),
        ("IMG-20250330-WA0001.jpg (Datei angehängt)", "IMG-20250330-WA0001.jpg"),
    ],
)
def test_localized_ios_attachments_name_their_file(text, name):
    assert lines.classify(text, is_system=False)[0] == "media"
    assert lines.attachment_name(text) == name
