"""Readable schema names in the OpenAPI document.

spectree names a model ``AnswerOut.4ac12ce`` (a hash of its module, to keep names apart) and a
model nested in it ``AnswerOut.4ac12ce.Citation``, once per parent. Those names are what the web
app's generated client shows, so the document is rewritten once it is built: the hash goes
(``AnswerOut``), and a nested model is named by itself (``Citation``) when every schema that
would take that name is the same; otherwise it keeps its parent's prefix (``AnswerOut.Citation``).
Two different top-level models with one class name cannot both be called that, and are refused
(the document would describe one of them wrongly).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

REF = "#/components/schemas/"
_HASH = re.compile(r"\.[0-9a-f]{7}(?=\.|$)")


def readable(document: dict[str, Any]) -> dict[str, Any]:
    """Rename ``document``'s schemas (and every reference to them) in place; returns it."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    renames = _renames(schemas)
    _rewrite_refs(document, {REF + old: REF + new for old, new in renames.items()})
    merged: dict[str, Any] = {}
    for name, schema in schemas.items():
        new = renames.get(name, name)
        if merged.setdefault(new, schema) != schema:
            raise ValueError(f"the schemas merged as {new!r} differ")
    document["components"]["schemas"] = merged
    return document


def _renames(schemas: dict[str, Any]) -> dict[str, str]:
    unhashed = {name: _HASH.sub("", name) for name in schemas}
    top: dict[str, list[str]] = defaultdict(list)
    for name, plain in unhashed.items():
        if "." not in plain:
            top[plain].append(name)
    for plain, names in top.items():
        if len({_canonical(schemas[name]) for name in names}) > 1:
            raise ValueError(
                f"two different models are both named {plain!r} ({names}): "
                "rename one, the document would describe one of them wrongly"
            )
    # A nested model takes its own name when every schema that would be called so agrees.
    claims: dict[str, set[str]] = defaultdict(set)
    for name, plain in unhashed.items():
        claims[_short(plain)].add(_canonical(schemas[name]))
    renames = {}
    for name, plain in unhashed.items():
        renames[name] = _short(plain) if len(claims[_short(plain)]) == 1 else plain
    return {old: new for old, new in renames.items() if old != new}


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _canonical(schema: Any) -> str:
    """The schema as text, its references by short name: copies of one nested model under two
    parents refer to their own copies of the models inside them."""
    return re.sub(
        r'"#/components/schemas/([^"]+)"',
        lambda ref: f'"{REF}{_short(_HASH.sub("", ref.group(1)))}"',
        json.dumps(schema, sort_keys=True),
    )


def _rewrite_refs(node: Any, refs: dict[str, str]) -> None:
    stack = [node]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str) and ref in refs:
                value["$ref"] = refs[ref]
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
