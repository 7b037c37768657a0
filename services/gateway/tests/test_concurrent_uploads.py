"""Many uploads at once through a threaded server: every file's check reads its own file.

The probe of issue 15 saw a window in which every upload's content check misread its file while
several uploads ran concurrently; this test runs uploads of every verdict in parallel threads
against the real app (a threaded WSGI server, the real bus and database) and checks each one.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from werkzeug.serving import make_server

from .conftest import WHATSAPP
from .test_api import create_collection
from .test_uploads import TELEGRAM, whatsapp_zip

# (file name, content, expected status, expected error code or None)
CASES = [
    ("WhatsApp Chat.txt", WHATSAPP.encode(), 202, None),
    ("result.json", TELEGRAM.encode(), 202, None),
    ("WhatsApp Chat.zip", whatsapp_zip(), 202, None),
    ("empty.txt", b"", 400, "empty_file"),
    ("foo.json", b'{"foo":1}', 422, "not_a_chat_export"),
    ("notes.txt", b"just some notes\n" * 50, 422, "not_a_chat_export"),
    ("broken.zip", b"PK\x03\x04 not really a zip" * 40, 422, "archive_corrupt"),
    ("report.pdf", b"%PDF-1.7\n" + b"x" * 5000, 415, "unsupported_type"),
]
ROUNDS = 6  # 48 uploads, 16 at a time


@pytest.fixture
def settings(settings):
    """48 uploads in a second by one user: far beyond the product's upload rate limit."""
    return settings.model_copy(update={"rate_limit_scale": 100.0})


@pytest.fixture
def served(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def test_many_uploads_at_once_each_get_their_own_verdict(app, client, auth, served):
    headers = auth()
    collection_id = create_collection(client, headers)
    url = f"{served}/api/v1/collections/{collection_id}/uploads"

    def send(case):
        name, content, _, _ = case
        response = requests.post(url, files={"files": (name, content)}, headers=headers, timeout=60)
        return case, response

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(send, CASES * ROUNDS))

    wrong, leaks = [], []
    for (name, _, status, code), response in results:
        body = response.json()
        got = body["error"]["code"] if "error" in body else None
        if response.status_code != status or got != code:
            wrong.append((name, response.status_code, body))
        message = body.get("error", {}).get("message", "")
        if ".incoming" in message or (message and not message.startswith(name)):
            leaks.append(message)  # the client's name only, never the store's temporary one
    assert wrong == []
    assert leaks == []
    accepted = sum(1 for (_, _, status, _), _ in results if status == 202)
    assert accepted == 3 * ROUNDS


def test_a_check_reads_its_own_descriptor_not_whatever_holds_its_temporary_name(tmp_path):
    from chatlens.gateway.uploads import HashingFile, check_file
    from chatlens.shared.archives import ArchiveLimits

    stream = HashingFile(tmp_path)
    stream.write(WHATSAPP.encode())
    stream.path.unlink()
    stream.path.write_bytes(b"")  # another file now has the name; the writer sits at its end

    checked = check_file("chat.txt", stream, "auto", ArchiveLimits())

    assert checked.format == "auto"
    assert stream.tell() == len(WHATSAPP.encode())  # the check never moved the writer
    stream.discard()
