"""The prompt-echo guard: a model's output that repeats its own prompt's scaffolding is never
returned as an answer (issue 12: "Who sent the most messages?" made SmolLM2 print its prompt).

Scaffolding is what the gateway and the inference service wrap around the data, never what a
user wrote: the ``<messages>``/``<summaries>`` fences, the numbered context lines
(``[3] 2025-02-14 11:15, Marta in Team: ...``), the ``Question:`` line after the data, and the
system prompt. :func:`echoed` says which of these an output repeats; the callers fall back
(an answer to the grounding's quote of the best message, a summary to an honest "could not
summarise" with its citations, a chat completion to a plain refusal).

Pure functions, no I/O. A run of :data:`SYSTEM_RUN` words taken from the system prompt is an
echo; answers in one sentence seldom share more than four or five words with it ("the
messages do not say").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# The fences the RAG and summary prompts put around the data (prompting.fenced and the
# inference service's summaries neutralise them inside messages, so the model wrote these).
_FENCE = re.compile(r"<\s*/?\s*(?:messages|summaries)\s*>", re.IGNORECASE)
# A context line's header as the prompts write it, "[3] 2025-02-14 11:15, Marta in Team: ...";
# SmolLM2 echoes it without the number too ("2025-02-14 11:03, Marta in Team: Booked ...").
_CONTEXT_LINE = re.compile(
    r"(?:\[\d{1,5}\]\s*\d{4}-\d{2}-\d{2}\s+\d{2}:\d{2},\s"
    r"|\d{4}-\d{2}-\d{2}\s+\d{2}:\d{2},\s[^\n:]{1,100}\sin\s[^\n:]{1,100}:)"
)
_QUESTION_LINE = re.compile(r"(?:^|\n)\s*Question:\s", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")
SYSTEM_RUN = 8  # this many consecutive words of the system prompt are a recital of it


class EchoWatch:
    """:func:`echoed` for a reply that arrives in pieces (a streamed chat completion): feed each
    piece, and the first piece that completes an echo is reported (and should be withheld, the
    stream ended). What came before it was already sent: at most the start of a fence or of a
    context line, or fewer than :data:`SYSTEM_RUN` words of the system prompt."""

    def __init__(self, system: Iterable[str] = (), prompt: str | None = None) -> None:
        self._system = _system_runs(system)
        self._prompt = prompt
        self._text = ""

    def feed(self, piece: str) -> str | None:
        """What scaffolding the reply repeats with ``piece`` added, or None."""
        self._text += piece
        return _echoed(self._text, self._system, self._prompt)


def echoed(output: str, system: Iterable[str] = (), prompt: str | None = None) -> str | None:
    """What scaffolding ``output`` repeats: ``"fence"``, ``"context_lines"``, ``"question"``
    (the prompt's ``Question:`` line), ``"system_prompt"``, or None for an answer.

    ``system`` are the system texts the model was given. ``prompt`` is the user turn it was
    given: a fence, context line or question line in the output is an echo only when the prompt
    has one too (a chat completion's caller may ask for such text). None stands for the
    gateway's and the inference service's own prompts, which have all three."""

    return _echoed(output, _system_runs(system), prompt)


def _echoed(output: str, system_runs: list[set[tuple[str, ...]]], prompt: str | None) -> str | None:
    def scaffold(pattern: re.Pattern[str]) -> bool:
        return bool(pattern.search(output)) and (prompt is None or bool(pattern.search(prompt)))

    for name, pattern in (
        ("fence", _FENCE),
        ("context_lines", _CONTEXT_LINE),
        ("question", _QUESTION_LINE),
    ):
        if scaffold(pattern):
            return name
    said = _runs(_words(output))
    if any(not said.isdisjoint(runs) for runs in system_runs):
        return "system_prompt"
    return None


def _system_runs(system: Iterable[str]) -> list[set[tuple[str, ...]]]:
    return [runs for text in system if (runs := _runs(_words(text)))]


def _words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def _runs(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + SYSTEM_RUN]) for i in range(len(words) - SYSTEM_RUN + 1)}
