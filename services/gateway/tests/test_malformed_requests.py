"""The malformed-request suite (issue 15): the probe's shapes, kept as regression cases, through the
real gateway and the real auth service behind its proxy. Every case must be a 4xx in the one error
shape (``{"error": {"code", "message"}}``, OpenAI's shape on ``/v1``, which has a code too) and
change nothing: the collections and their versions, the jobs, queued messages, answers and
summaries, the stored upload files, the org's model endpoints and defaults, and auth's orgs,
members, API keys, invitations and audit log are compared after every case with what they were
before the suite.

Cases: every JSON route gets the generic shapes (not JSON, broken JSON, NaN, deep nesting, an
array, an unknown field, a body too large), then route-specific ones: wrong types and bounds, NUL
and bidi controls, huge strings, bad ids and cursors, uploads that are archive bombs, traversal or
the wrong type, requests without or with forged credentials.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import pytest
from sqlalchemy import func, select

from chatlens.gateway.db import Answer, Collection, Job, OutboxMessage, Summary

from .conftest import WHATSAPP
from .test_api import create_collection, stored_files, upload
from .test_with_real_auth import bearer, real_auth, sign_up  # noqa: F401 - the real auth

OWNER, KEY, OTHER, NOBODY = "owner", "key", "other", "nobody"
ENDPOINT = "/api/v1/models/endpoints/vllm"
BIG = 3 * 1024 * 1024  # over the suite's 2 MiB body limit (conftest's max_upload_bytes)


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture
def settings(settings, real_auth):  # noqa: F811
    from .test_with_real_auth import INTERNAL_TOKEN

    return settings.model_copy(
        update={
            "auth_url": real_auth["url"],
            "jwks_url": None,
            "internal_token": INTERNAL_TOKEN,
            "rate_limit_scale": 1000.0,
        }
    )


# --- the cases ----------------------------------------------------------------------------------
# (name, who, method, path, request kwargs); "{c}" is the owner's collection, "{x}" another org's.

JSON_ROUTES = [  # (who, method, path, a valid body to spoil)
    (OWNER, "POST", "/api/v1/collections", {"name": "T"}),
    (OWNER, "POST", "/api/v1/collections/{c}/search", {"query": "venue"}),
    (OWNER, "POST", "/api/v1/search", {"collections": ["{c}"], "query": "venue"}),
    (OWNER, "POST", "/api/v1/collections/{c}/ask", {"question": "who?"}),
    (OWNER, "POST", "/api/v1/collections/{c}/summaries", {"chat": "Team"}),
    (OWNER, "POST", "/api/v1/collections/{c}/tags", {"name": "t1", "version": 1}),
    (OWNER, "POST", "/api/v1/collections/{c}/deletions", {"message_ids": ["m1"]}),
    (
        OWNER,
        "POST",
        "/v1/chat/completions",
        {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
    ),
    (OWNER, "POST", "/v1/embeddings", {"model": "m", "input": "hi"}),
    (NOBODY, "POST", "/api/v1/auth/register", {"email": "x@example.com", "password": "p" * 16}),
    (NOBODY, "POST", "/api/v1/auth/login", {"email": "x@example.com", "password": "p" * 16}),
    (NOBODY, "POST", "/api/v1/auth/refresh", {"refresh_token": "r"}),
    (OWNER, "POST", "/api/v1/auth/orgs", {"name": "O"}),
    (OWNER, "POST", "/api/v1/auth/api-keys", {"name": "k", "scopes": ["search:read"]}),
    (OWNER, "POST", "/api/v1/auth/invitations", {"email": "i@example.com", "role": "viewer"}),
    (
        OWNER,
        "POST",
        "/api/v1/auth/password",
        {"current_password": "p" * 16, "new_password": "q" * 16},
    ),
    (OWNER, "PATCH", "/api/v1/auth/members/{u}", {"role": "viewer"}),
    (NOBODY, "POST", "/api/v1/auth/switch", {"refresh_token": "r", "org_id": "o"}),
]


def _generic(who, method, path, body):
    raw = json.dumps(body)
    yield "not JSON", who, method, path, {"data": raw, "content_type": "text/plain"}
    yield "broken JSON", who, method, path, {"data": raw[:-1], "content_type": "application/json"}
    yield (
        "NaN",
        who,
        method,
        path,
        {"data": raw[:-1] + ', "n": NaN}', "content_type": "application/json"},
    )
    yield (
        "deep nesting",
        who,
        method,
        path,
        {"data": "[" * 5000 + "]" * 5000, "content_type": "application/json"},
    )
    yield "an array", who, method, path, {"json": [body]}
    yield "an unknown field", who, method, path, {"json": {**body, "is_admin": True}}
    yield "too large", who, method, path, {"json": {**body, "pad": "x" * BIG}}


# OpenAI's shapes tolerate fields they do not use (its clients send them), so /v1 takes them.
GENERIC = [
    (f"{method} {path}: {shape}", who, method, path, kwargs)
    for who, method, path, body in JSON_ROUTES
    for shape, who, method, path, kwargs in _generic(who, method, path, body)
    if not (path.startswith("/v1/") and shape == "an unknown field")
]


def _zip(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _files(*files, **form):
    return {
        "data": {"files": [(io.BytesIO(content), name) for name, content in files], **form},
        "content_type": "multipart/form-data",
    }


UPLOADS = "/api/v1/collections/{c}/uploads"
SEARCH = "/api/v1/collections/{c}/search"
ASK = "/api/v1/collections/{c}/ask"
CHAT = "/v1/chat/completions"
TURN = [{"role": "user", "content": "hi"}]

SPECIFIC = [
    # types and bounds
    ("search: k a string", OWNER, "POST", SEARCH, {"json": {"query": "a", "k": "ten"}}),
    ("search: k 0", OWNER, "POST", SEARCH, {"json": {"query": "a", "k": 0}}),
    ("search: k 1000", OWNER, "POST", SEARCH, {"json": {"query": "a", "k": 1000}}),
    ("search: k a float", OWNER, "POST", SEARCH, {"json": {"query": "a", "k": 1.5}}),
    ("search: k true", OWNER, "POST", SEARCH, {"json": {"query": "a", "k": True}}),
    ("search: k a numeric string", OWNER, "POST", SEARCH, {"json": {"query": "a", "k": "5"}}),
    ("search: context -1", OWNER, "POST", SEARCH, {"json": {"query": "a", "context": -1}}),
    ("search: an unknown mode", OWNER, "POST", SEARCH, {"json": {"query": "a", "mode": "x"}}),
    ("search: version -1", OWNER, "POST", SEARCH, {"json": {"query": "a", "version": -1}}),
    ("search: no versions", OWNER, "POST", SEARCH, {"json": {"query": "a", "versions": []}}),
    (
        "search: 11 versions",
        OWNER,
        "POST",
        SEARCH,
        {"json": {"query": "a", "versions": list(range(11))}},
    ),
    (
        "search: a version ref of 64 chars",
        OWNER,
        "POST",
        SEARCH,
        {"json": {"query": "a", "version": "v" * 64}},
    ),
    ("search: a query a number", OWNER, "POST", SEARCH, {"json": {"query": 42}}),
    ("search: a query null", OWNER, "POST", SEARCH, {"json": {"query": None}}),
    ("search: an empty query", OWNER, "POST", SEARCH, {"json": {"query": ""}}),
    ("search: a query of 2,001 chars", OWNER, "POST", SEARCH, {"json": {"query": "a" * 2001}}),
    ("search: a NUL in the query", OWNER, "POST", SEARCH, {"json": {"query": "a\x00b"}}),
    ("search: a bidi override", OWNER, "POST", SEARCH, {"json": {"query": "a\u202eb"}}),
    ("search: an invisible query", OWNER, "POST", SEARCH, {"json": {"query": "\u200b"}}),
    ("search: filters a list", OWNER, "POST", SEARCH, {"json": {"query": "a", "filters": []}}),
    (
        "search: a NUL sender",
        OWNER,
        "POST",
        SEARCH,
        {"json": {"query": "a", "filters": {"sender": "A\x00"}}},
    ),
    (
        "search: an unknown kind",
        OWNER,
        "POST",
        SEARCH,
        {"json": {"query": "a", "filters": {"kind": "hologram"}}},
    ),
    (
        "search: since not a date",
        OWNER,
        "POST",
        SEARCH,
        {"json": {"query": "a", "filters": {"since": "yesterday-ish"}}},
    ),
    ("search: a garbage cursor", OWNER, "POST", SEARCH, {"json": {"query": "a", "cursor": "!!"}}),
    (
        "search: a forged cursor",
        OWNER,
        "POST",
        SEARCH,
        {"json": {"query": "a", "cursor": "eyJvIjowfQ"}},
    ),
    (
        "search: a cursor of 513 chars",
        OWNER,
        "POST",
        SEARCH,
        {"json": {"query": "a", "cursor": "c" * 513}},
    ),
    (
        "search across: no collections",
        OWNER,
        "POST",
        "/api/v1/search",
        {"json": {"collections": [], "query": "a"}},
    ),
    (
        "search across: 21 collections",
        OWNER,
        "POST",
        "/api/v1/search",
        {"json": {"collections": ["{c}"] * 21, "query": "a"}},
    ),
    (
        "search across: another org's",
        OWNER,
        "POST",
        "/api/v1/search",
        {"json": {"collections": ["{x}"], "query": "a"}},
    ),
    (
        "search across: a garbage cursor",
        OWNER,
        "POST",
        "/api/v1/search",
        {"json": {"collections": ["{c}"], "query": "a", "cursor": "%%%"}},
    ),
    ("ask: k 21", OWNER, "POST", ASK, {"json": {"question": "who?", "k": 21}}),
    ("ask: a question of 4,001 chars", OWNER, "POST", ASK, {"json": {"question": "a" * 4001}}),
    ("ask: a NUL", OWNER, "POST", ASK, {"json": {"question": "who\x00?"}}),
    ("ask: an isolate", OWNER, "POST", ASK, {"json": {"question": "\u2066who?"}}),
    ("ask: stream a string", OWNER, "POST", ASK, {"json": {"question": "who?", "stream": "yes"}}),
    (
        "ask: a path for a model",
        OWNER,
        "POST",
        ASK,
        {"json": {"question": "who?", "model": "../../etc/passwd"}},
    ),
    (
        "summary: a path for a model",
        OWNER,
        "POST",
        "/api/v1/collections/{c}/summaries",
        {"json": {"model": "../../../etc/passwd"}},
    ),
    (
        "summary: version -3",
        OWNER,
        "POST",
        "/api/v1/collections/{c}/summaries",
        {"json": {"version": -3}},
    ),
    (
        "summary: until not a date",
        OWNER,
        "POST",
        "/api/v1/collections/{c}/summaries",
        {"json": {"until": "soon"}},
    ),
    (
        "tag: a name with a slash",
        OWNER,
        "POST",
        "/api/v1/collections/{c}/tags",
        {"json": {"name": "a/b", "version": 1}},
    ),
    (
        "tag: a name of 64 chars",
        OWNER,
        "POST",
        "/api/v1/collections/{c}/tags",
        {"json": {"name": "t" * 64, "version": 1}},
    ),
    (
        "tag: a NUL name",
        OWNER,
        "POST",
        "/api/v1/collections/{c}/tags",
        {"json": {"name": "t\x00", "version": 1}},
    ),
    ("collection: a NUL name", OWNER, "POST", "/api/v1/collections", {"json": {"name": "T\x00"}}),
    (
        "collection: a bidi name",
        OWNER,
        "POST",
        "/api/v1/collections",
        {"json": {"name": "\u202eT"}},
    ),
    (
        "collection: an invisible name",
        OWNER,
        "POST",
        "/api/v1/collections",
        {"json": {"name": "\u3164"}},
    ),
    ("collection: an empty name", OWNER, "POST", "/api/v1/collections", {"json": {"name": ""}}),
    (
        "collection: a name of 201 chars",
        OWNER,
        "POST",
        "/api/v1/collections",
        {"json": {"name": "n" * 201}},
    ),
    ("collection: a name a list", OWNER, "POST", "/api/v1/collections", {"json": {"name": ["T"]}}),
    (
        "collection: a NUL description",
        OWNER,
        "POST",
        "/api/v1/collections",
        {"json": {"name": "T", "description": "\x00"}},
    ),
    (
        "collection: a viewer's key creates",
        KEY,
        "POST",
        "/api/v1/collections",
        {"json": {"name": "T"}},
    ),
    (
        "deletions: no ids",
        OWNER,
        "POST",
        "/api/v1/collections/{c}/deletions",
        {"json": {"message_ids": []}},
    ),
    (
        "deletions: ids not strings",
        OWNER,
        "POST",
        "/api/v1/collections/{c}/deletions",
        {"json": {"message_ids": [1, 2]}},
    ),
    (
        "restore: a negative version",
        OWNER,
        "POST",
        "/api/v1/collections/{c}/versions/-1/restore",
        {},
    ),
    (
        "restore: a version of words",
        OWNER,
        "POST",
        "/api/v1/collections/{c}/versions/abc def/restore",
        {},
    ),
    (
        "compare: base a word",
        OWNER,
        "GET",
        "/api/v1/collections/{c}/versions/compare?base=x&other=1",
        {},
    ),
    (
        "compare: limit 1001",
        OWNER,
        "GET",
        "/api/v1/collections/{c}/versions/compare?base=1&other=2&limit=1001",
        {},
    ),
    ("chat: n 1000", OWNER, "POST", CHAT, {"json": {"model": "m", "messages": TURN, "n": 1000}}),
    (
        "chat: logprobs",
        OWNER,
        "POST",
        CHAT,
        {"json": {"model": "m", "messages": TURN, "logprobs": True}},
    ),
    ("chat: no messages", OWNER, "POST", CHAT, {"json": {"model": "m", "messages": []}}),
    ("chat: 101 messages", OWNER, "POST", CHAT, {"json": {"model": "m", "messages": TURN * 101}}),
    (
        "chat: a role of tool",
        OWNER,
        "POST",
        CHAT,
        {"json": {"model": "m", "messages": [{"role": "tool", "content": "x"}]}},
    ),
    (
        "chat: max_tokens 0",
        OWNER,
        "POST",
        CHAT,
        {"json": {"model": "m", "messages": TURN, "max_tokens": 0}},
    ),
    (
        "chat: temperature 3",
        OWNER,
        "POST",
        CHAT,
        {"json": {"model": "m", "messages": TURN, "temperature": 3}},
    ),
    (
        "chat: a NUL turn",
        OWNER,
        "POST",
        CHAT,
        {"json": {"model": "m", "messages": [{"role": "user", "content": "\x00"}]}},
    ),
    (
        "chat: a path for a model",
        OWNER,
        "POST",
        CHAT,
        {"json": {"model": "../../m", "messages": TURN}},
    ),
    (
        "embeddings: input a number",
        OWNER,
        "POST",
        "/v1/embeddings",
        {"json": {"model": "m", "input": 7}},
    ),
    (
        "embeddings: an unknown encoding",
        OWNER,
        "POST",
        "/v1/embeddings",
        {"json": {"model": "m", "input": "a", "encoding_format": "hex"}},
    ),
    # ids, paths and credentials
    ("a collection that does not exist", OWNER, "GET", "/api/v1/collections/nope", {}),
    ("another org's collection", OWNER, "GET", "/api/v1/collections/{x}", {}),
    ("deleting another org's collection", OWNER, "DELETE", "/api/v1/collections/{x}", {}),
    ("an id of 10,000 chars", OWNER, "GET", "/api/v1/collections/" + "a" * 10_000, {}),
    ("a NUL in an id", OWNER, "GET", "/api/v1/collections/a%00b", {}),
    ("a job that does not exist", OWNER, "GET", f"/api/v1/jobs/{uuid.uuid4()}", {}),
    ("an answer that does not exist", OWNER, "GET", "/api/v1/answers/nope", {}),
    ("a summary that does not exist", OWNER, "GET", "/api/v1/summaries/nope", {}),
    ("a message of another org", OWNER, "GET", "/api/v1/collections/{x}/messages/m1", {}),
    (
        "cancelling another org's upload",
        OWNER,
        "DELETE",
        f"/api/v1/collections/{{x}}/uploads/{uuid.uuid4()}",
        {},
    ),
    ("a tag of another org", OWNER, "DELETE", "/api/v1/collections/{x}/tags/t1", {}),
    ("an unknown route", OWNER, "GET", "/api/v1/nothing-here", {}),
    ("a method a route lacks", OWNER, "PUT", "/api/v1/collections", {"json": {}}),
    ("no credentials", NOBODY, "GET", "/api/v1/collections", {}),
    ("no credentials to create", NOBODY, "POST", "/api/v1/collections", {"json": {"name": "T"}}),
    (
        "a forged token",
        NOBODY,
        "GET",
        "/api/v1/collections",
        {"headers": bearer("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")},
    ),
    (
        "a made-up API key",
        NOBODY,
        "POST",
        "/api/v1/collections",
        {"json": {"name": "T"}, "headers": bearer("clk_0_made_up")},
    ),
    (
        "a Basic scheme",
        NOBODY,
        "GET",
        "/api/v1/collections",
        {"headers": {"Authorization": "Basic dXNlcjpwYXNz"}},
    ),
    (
        "a model admin who is not one",
        OWNER,
        "PUT",
        "/api/v1/admin/models/default",
        {"json": {"model": "SmolLM2-135M-Instruct"}},
    ),
    ("unloading a path", OWNER, "POST", "/api/v1/admin/models/..%2F..%2Fetc/unload", {}),
    # analytics query strings
    (
        "analytics: an unknown parameter",
        OWNER,
        "GET",
        "/api/v1/collections/{c}/analytics/overview?colour=red",
        {},
    ),
    (
        "analytics: an unknown zone",
        OWNER,
        "GET",
        "/api/v1/collections/{c}/analytics/activity?timezone=Mars/Olympus",
        {},
    ),
    (
        "analytics: a bucket of years",
        OWNER,
        "GET",
        "/api/v1/collections/{c}/analytics/activity?bucket=year",
        {},
    ),
    (
        "analytics: since twice",
        OWNER,
        "GET",
        "/api/v1/collections/{c}/analytics/people?since=2024-01-01&since=2024-02-01",
        {},
    ),
    # ... and the one text rule (chatlens.shared.text) on their filters
    (
        "analytics: a NUL sender",
        OWNER,
        "GET",
        "/api/v1/collections/{c}/analytics/overview?sender=Marta%00",
        {},
    ),
    (
        "analytics: a bidi override in a chat",
        OWNER,
        "GET",
        "/api/v1/collections/{c}/analytics/activity?chat=%E2%80%AETeam",
        {},
    ),
    (
        "analytics: an invisible platform",
        OWNER,
        "GET",
        "/api/v1/collections/{c}/analytics/people?platform=%E2%80%8B",
        {},
    ),
    (
        "analytics: a line break in since",
        OWNER,
        "GET",
        "/api/v1/collections/{c}/analytics/calendar?since=2024-01-01%0A",
        {},
    ),
    (
        "analytics: a NUL time zone",
        OWNER,
        "GET",
        "/api/v1/collections/{c}/analytics/overview?timezone=UTC%00",
        {},
    ),
    (
        "analytics: an escape in a language",
        OWNER,
        "GET",
        "/api/v1/collections/{c}/analytics/language?languages=e%1Bn",
        {},
    ),
    (
        "people: a NUL person",
        OWNER,
        "POST",
        "/api/v1/collections/{c}/people",
        {"json": {"action": "merge", "person": "Marta\x00", "senders": ["Marta"]}},
    ),
    (
        "people: a bidi sender",
        OWNER,
        "POST",
        "/api/v1/collections/{c}/people",
        {"json": {"action": "merge", "person": "Marta", "senders": ["\u202eatraM"]}},
    ),
    # an org's model endpoints: names, URLs, model names
    (
        "endpoint: a NUL model",
        OWNER,
        "PUT",
        ENDPOINT,
        {"json": {"base_url": "http://vllm:8000/v1", "model": "m\x00"}},
    ),
    (
        "endpoint: a bidi model",
        OWNER,
        "PUT",
        ENDPOINT,
        {"json": {"base_url": "http://vllm:8000/v1", "model": "\u202em"}},
    ),
    (
        "endpoint: an invisible model",
        OWNER,
        "PUT",
        ENDPOINT,
        {"json": {"base_url": "http://vllm:8000/v1", "model": "\u200b\u200b"}},
    ),
    (
        "endpoint: a NUL in the URL",
        OWNER,
        "PUT",
        ENDPOINT,
        {"json": {"base_url": "http://vllm:8000/v1\x00x", "model": "m"}},
    ),
    (
        "endpoint: a bidi override in the URL",
        OWNER,
        "PUT",
        ENDPOINT,
        {"json": {"base_url": "http://vllm:8000/\u202ev1", "model": "m"}},
    ),
    (
        "endpoint: a line break in the URL",
        OWNER,
        "PUT",
        ENDPOINT,
        {"json": {"base_url": "http://vllm:8000/v1\r\nX-Injected: 1", "model": "m"}},
    ),
    (
        "endpoint: a file URL",
        OWNER,
        "PUT",
        ENDPOINT,
        {"json": {"base_url": "file:///etc/passwd", "model": "m"}},
    ),
    (
        "endpoint: a bidi name",
        OWNER,
        "PUT",
        "/api/v1/models/endpoints/%E2%80%AEvllm",
        {"json": {"base_url": "http://vllm:8000/v1", "model": "m"}},
    ),
    (
        "endpoint: a NUL name",
        OWNER,
        "PUT",
        "/api/v1/models/endpoints/vllm%00",
        {"json": {"base_url": "http://vllm:8000/v1", "model": "m"}},
    ),
    (
        "endpoint: a secret name with a NUL",
        OWNER,
        "PUT",
        ENDPOINT,
        {"json": {"base_url": "http://vllm:8000/v1", "model": "m", "secret": "k\x00"}},
    ),
    (
        "model defaults: a NUL answers model",
        OWNER,
        "PUT",
        "/api/v1/models/defaults",
        {"json": {"answers": "SmolLM2\x00"}},
    ),
    (
        "model defaults: a bidi summaries model",
        OWNER,
        "PUT",
        "/api/v1/models/defaults",
        {"json": {"summaries": "\u202eSmolLM2"}},
    ),
    # uploads
    ("upload: no files", OWNER, "POST", UPLOADS, _files()),
    ("upload: JSON instead of a form", OWNER, "POST", UPLOADS, {"json": {"files": []}}),
    ("upload: an empty file", OWNER, "POST", UPLOADS, _files(("chat.txt", b""))),
    ("upload: binary as text", OWNER, "POST", UPLOADS, _files(("chat.txt", b"\x00\x01" * 64))),
    ("upload: not UTF-8", OWNER, "POST", UPLOADS, _files(("chat.txt", b"\xff\xfe\xfa" * 64))),
    ("upload: an executable", OWNER, "POST", UPLOADS, _files(("run.exe", b"MZ" + b"\0" * 64))),
    (
        "upload: no WhatsApp line",
        OWNER,
        "POST",
        UPLOADS,
        _files(("chat.txt", b"just some words\n")),
    ),
    (
        "upload: JSON that is no export",
        OWNER,
        "POST",
        UPLOADS,
        _files(("result.json", b'{"foo": 1}')),
    ),
    ("upload: a CSV without a header", OWNER, "POST", UPLOADS, _files(("chat.csv", b"x\n"))),
    (
        "upload: a format the file cannot be",
        OWNER,
        "POST",
        UPLOADS,
        _files(("chat.txt", WHATSAPP.encode()), format="telegram"),
    ),
    (
        "upload: an unknown format",
        OWNER,
        "POST",
        UPLOADS,
        _files(("chat.txt", WHATSAPP.encode()), format="telepathy"),
    ),
    (
        "upload: an unknown time zone",
        OWNER,
        "POST",
        UPLOADS,
        _files(("chat.txt", WHATSAPP.encode()), timezone="Mars/Olympus"),
    ),
    (
        "upload: a zip with traversal",
        OWNER,
        "POST",
        UPLOADS,
        _files(("export.zip", _zip({"../../evil.txt": WHATSAPP.encode()}))),
    ),
    (
        "upload: a zip with an absolute path",
        OWNER,
        "POST",
        UPLOADS,
        _files(("export.zip", _zip({"/etc/cron.d/x.txt": WHATSAPP.encode()}))),
    ),
    (
        "upload: a zip bomb",
        OWNER,
        "POST",
        UPLOADS,
        _files(("export.zip", _zip({"chat.txt": b"0" * (64 * 1024 * 1024)}))),
    ),
    (
        "upload: a broken zip",
        OWNER,
        "POST",
        UPLOADS,
        _files(("export.zip", b"PK\x03\x04" + b"garbage" * 20)),
    ),
    (
        "upload: a zip without exports",
        OWNER,
        "POST",
        UPLOADS,
        _files(("export.zip", _zip({"photo.jpg": b"\xff\xd8\xff" + b"0" * 100}))),
    ),
    (
        "upload: 21 files",
        OWNER,
        "POST",
        UPLOADS,
        _files(*[(f"c{n}.txt", WHATSAPP.encode()) for n in range(21)]),
    ),
    (
        "upload: 3,000 form fields",
        OWNER,
        "POST",
        UPLOADS,
        {
            "data": {
                **{f"f{n}": "x" for n in range(3000)},
                "files": [(io.BytesIO(WHATSAPP.encode()), "chat.txt")],
            },
            "content_type": "multipart/form-data",
        },
    ),
    (
        "upload: over the size limit",
        OWNER,
        "POST",
        UPLOADS,
        _files(("chat.txt", WHATSAPP.encode() * (BIG // len(WHATSAPP)))),
    ),
    (
        "upload: into another org's collection",
        OWNER,
        "POST",
        "/api/v1/collections/{x}/uploads",
        _files(("chat.txt", WHATSAPP.encode())),
    ),
    ("upload: a viewer's key", KEY, "POST", UPLOADS, _files(("chat.txt", WHATSAPP.encode()))),
    # auth, behind the gateway's proxy
    (
        "register: a password equal to the e-mail",
        NOBODY,
        "POST",
        "/api/v1/auth/register",
        {"json": {"email": "same-as-pw@example.com", "password": "same-as-pw@example.com"}},
    ),
    (
        "register: a short password",
        NOBODY,
        "POST",
        "/api/v1/auth/register",
        {"json": {"email": "s@example.com", "password": "short"}},
    ),
    (
        "register: not an e-mail",
        NOBODY,
        "POST",
        "/api/v1/auth/register",
        {"json": {"email": "nobody", "password": "p" * 20}},
    ),
    (
        "register: a NUL name",
        NOBODY,
        "POST",
        "/api/v1/auth/register",
        {
            "json": {
                "email": "n@example.com",
                "password": "a long uncommon passphrase 9",
                "name": "N\x00",
            }
        },
    ),
    (
        "register: a bidi name",
        NOBODY,
        "POST",
        "/api/v1/auth/register",
        {
            "json": {
                "email": "b@example.com",
                "password": "a long uncommon passphrase 9",
                "name": "\u202eadmin",
            }
        },
    ),
    (
        "refresh: a made-up token",
        NOBODY,
        "POST",
        "/api/v1/auth/refresh",
        {"json": {"refresh_token": "made-up"}},
    ),
    ("org: an invisible name", OWNER, "POST", "/api/v1/auth/orgs", {"json": {"name": "\u200b"}}),
    (
        "api key: an unknown scope",
        OWNER,
        "POST",
        "/api/v1/auth/api-keys",
        {"json": {"name": "k", "scopes": ["everything"]}},
    ),
    (
        "api key: 366 days",
        OWNER,
        "POST",
        "/api/v1/auth/api-keys",
        {"json": {"name": "k", "scopes": ["search:read"], "expires_in_days": 366}},
    ),
    (
        "api key: a NUL name",
        OWNER,
        "POST",
        "/api/v1/auth/api-keys",
        {"json": {"name": "k\x00", "scopes": ["search:read"]}},
    ),
    (
        "api key: revoking one that does not exist",
        OWNER,
        "DELETE",
        "/api/v1/auth/api-keys/nope",
        {},
    ),
    (
        "invitation: an unknown role",
        OWNER,
        "POST",
        "/api/v1/auth/invitations",
        {"json": {"email": "i@example.com", "role": "emperor"}},
    ),
    (
        "invitation: accepting a made-up token",
        OWNER,
        "POST",
        "/api/v1/auth/invitations/accept",
        {"json": {"token": "made-up"}},
    ),
    (
        "member: an unknown role",
        OWNER,
        "PATCH",
        "/api/v1/auth/members/{u}",
        {"json": {"role": "emperor"}},
    ),
    (
        "member: one who is not",
        OWNER,
        "PATCH",
        "/api/v1/auth/members/nobody",
        {"json": {"role": "viewer"}},
    ),
    ("member: removing one who is not", OWNER, "DELETE", "/api/v1/auth/members/nobody", {}),
    (
        "session: revoking one that does not exist",
        OWNER,
        "DELETE",
        "/api/v1/auth/sessions/nope",
        {},
    ),
    (
        "switch: to an org one is not in",
        NOBODY,
        "POST",
        "/api/v1/auth/switch",
        {"json": {"refresh_token": "made-up", "org_id": "{xo}"}},
    ),
    ("audit: limit 0", OWNER, "GET", "/api/v1/auth/audit?limit=0", {}),
    ("audit: an event pattern that is not", OWNER, "GET", "/api/v1/auth/audit?event=%00", {}),
    (
        "secrets: a provider with spaces",
        OWNER,
        "PUT",
        "/api/v1/auth/secrets/a b",
        {"json": {"value": "x"}},
    ),
    ("auth: an unknown route", NOBODY, "GET", "/api/v1/auth/nothing-here", {}),
]

CASES = GENERIC + SPECIFIC


# --- the world they must not change -------------------------------------------------------------


@pytest.fixture
def world(app, client):
    tag = uuid.uuid4().hex[:8]
    owner = sign_up(client, f"owner-{tag}@example.com")
    headers = bearer(owner["access_token"])
    other = bearer(sign_up(client, f"other-{tag}@example.com")["access_token"])
    collection_id = create_collection(client, headers)
    assert (
        upload(client, headers, collection_id, [("chat.txt", WHATSAPP.encode())]).status_code == 202
    )
    foreign = create_collection(client, other)
    key = client.post(
        "/api/v1/auth/api-keys",
        headers=headers,
        json={"name": "reader", "scopes": ["collections:read"]},
    ).json["key"]
    me = client.get("/api/v1/me", headers=headers).json
    return {
        "headers": {OWNER: headers, KEY: bearer(key), OTHER: other, NOBODY: {}},
        "ids": {
            "c": collection_id,
            "x": foreign,
            "u": me["id"],
            "xo": client.get("/api/v1/me", headers=other).json["org"]["id"],
        },
    }


def snapshot(app, client, headers) -> dict:
    """What a refused request must leave as it was."""
    with app.extensions["chatlens.sessions"]() as session:
        rows = {
            table.__name__: session.scalar(select(func.count()).select_from(table))
            for table in (Collection, Job, OutboxMessage, Answer, Summary)
        }
    auth_state = {
        path: client.get(path, headers=headers).json
        for path in (
            "/api/v1/auth/orgs",
            "/api/v1/auth/members",
            "/api/v1/auth/api-keys",
            "/api/v1/auth/invitations",
            "/api/v1/auth/audit?limit=5",
            "/api/v1/models/endpoints",
            "/api/v1/models/defaults",
        )
    }
    for key in auth_state["/api/v1/auth/api-keys"]["api_keys"]:
        key.pop("last_used_at")  # presenting a key is a use of it, even when the request fails
    return {
        "rows": rows,
        "files": stored_files(app),
        "auth": auth_state,
        "collections": client.get("/api/v1/collections", headers=headers).json,
    }


def test_the_suite_has_about_150_cases_across_the_routes():
    assert len(CASES) >= 150
    assert len({c[0] for c in CASES}) == len(CASES)  # each case named once


def test_every_malformed_request_is_a_4xx_with_a_code_and_changes_nothing(app, client, world):
    before = snapshot(app, client, world["headers"][OWNER])
    failures = []
    for name, who, method, path, kwargs in CASES:
        kwargs = dict(kwargs)
        if "json" in kwargs:
            kwargs["json"] = json.loads(
                json.dumps(kwargs["json"])
                .replace("{c}", world["ids"]["c"])
                .replace("{x}", world["ids"]["x"])
            )
        if isinstance(kwargs.get("data"), dict):  # a form's file objects are read once
            kwargs["data"] = {
                k: ([(io.BytesIO(f.getvalue()), n) for f, n in v] if k == "files" else v)
                for k, v in kwargs["data"].items()
            }
        headers = {**world["headers"][who], **kwargs.pop("headers", {})}
        url = path.format(**world["ids"])
        response = client.open(url, method=method, headers=headers, **kwargs)
        body = response.get_json(silent=True) or {}
        error = body.get("error") if isinstance(body, dict) else None
        if not (
            400 <= response.status_code < 500
            and isinstance(error, dict)
            and error.get("code")
            and error.get("message")
        ):
            failures.append(
                f"{name}: {response.status_code} {response.get_data(as_text=True)[:200]}"
            )
            continue
        if snapshot(app, client, world["headers"][OWNER]) != before:
            failures.append(f"{name}: changed something")
            before = snapshot(app, client, world["headers"][OWNER])
    assert not failures, "\n".join(failures)
