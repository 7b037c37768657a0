"""The one rule for text a user gives us (issue 15.7): names, descriptions, queries, questions.

:func:`clean` is applied to every such field, through the types :data:`Line`, :data:`Paragraph`
and :data:`OptionalParagraph` of the request models (gateway and auth alike), so that what is
stored, searched or sent to a model is:

* Unicode NFC, so that the same name typed on two keyboards is the same name;
* free of NUL and every other C0/C1 control character (tab and line breaks are kept where the
  field is ``multiline``), of lone surrogates and of noncharacters;
* free of the explicit bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069):
  they reorder how a name is shown to the next person ("Trojan Source"); the marks LRM/RLM that
  right-to-left writing needs are kept;
* trimmed of surrounding white space, and refused when nothing visible is left (a name of
  zero-width spaces or Hangul fillers);
* within the field's length in characters.

A refusal is a ``ValueError`` naming the reason, which the request models turn into the one
422 ``validation_error`` answer.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field

_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\t\n\r]")
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Letters that render as nothing: Hangul fillers, the braille blank, and so on.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")


def _invisible(char: str) -> bool:
    return (
        char.isspace()
        or char in _BLANK_LETTERS
        or unicodedata.category(char) in ("Cf", "Mn", "Me", "Zs", "Zl", "Zp")
    )


def clean(value: str, *, multiline: bool = False, required: bool = True) -> str:
    """``value`` by the rule above, or ``ValueError`` with the reason."""
    if _CONTROLS.search(value) or (not multiline and _LINE_BREAKS.search(value)):
        raise ValueError("contains a control character (NUL, escape, a line break here...)")
    if _BIDI_CONTROLS.search(value):
        raise ValueError("contains a bidirectional override or isolate character")
    if any(0xD800 <= ord(c) <= 0xDFFF or _nonchar(c) for c in value):
        raise ValueError("contains a surrogate or a Unicode noncharacter")
    text = unicodedata.normalize("NFC", value).strip()
    if required and all(_invisible(c) for c in text):
        raise ValueError("has no visible character")
    return text


def _nonchar(char: str) -> bool:
    point = ord(char)
    return 0xFDD0 <= point <= 0xFDEF or (point & 0xFFFE) == 0xFFFE


# The field types. Lengths stay with each field (``Field(max_length=...)``, in characters), where
# the OpenAPI document shows them.
Line = Annotated[str, AfterValidator(clean)]
"""One line of visible text: a name, a search query, a filter value."""
Paragraph = Annotated[str, AfterValidator(functools.partial(clean, multiline=True))]
"""Visible text that may span lines: a question, a message to a model."""
OptionalParagraph = Annotated[
    str, AfterValidator(functools.partial(clean, multiline=True, required=False))
]
"""Text that may span lines or be empty: a description."""

ModelName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=(r"^[A-Za-z0-9][A-Za-z0-9._:@+-]*(?:/[A-Za-z0-9][A-Za-z0-9._:@+-]*)*$"),
    ),
]
"""A model's name (a registry entry, an org endpoint, ``org/model`` as Hugging Face writes it):
letters, digits and ``._:@+-``, in ``/``-separated parts that each begin with a letter or digit,
so nothing like ``../../etc/passwd`` is ever taken for one."""
