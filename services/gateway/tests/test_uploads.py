"""Uploads of every export type, zips included: accepted together or refused together."""

import io
import json
import stat
import zipfile

import pytest

from chatlens.gateway.db import Job, OutboxMessage
from chatlens.gateway.sniff import FORMATS
from chatlens.shared import schemas

from .conftest import WHATSAPP
from .test_api import create_collection, stored_files, upload

TELEGRAM = json.dumps(
    {
        "name": "Team",
        "type": "personal_chat",
        "id": 1,
        "messages": [
            {
                "id": 1,
                "type": "message",
                "date": "2024-03-12T09:15:00",
                "from": "Marta",
                "text": "hi",
            }
        ],
    }
)
DISCORD = json.dumps(
    {"guild": {"id": "1", "name": "G"}, "channel": {"id": "2", "name": "general"}, "messages": []}
)
CHATGPT = json.dumps([{"title": "Trip", "create_time": 1.0, "mapping": {}, "current_node": None}])
CSV = "timestamp,sender,text\n2024-03-12T09:15:00Z,Marta,hi\n"
JSONL = '{"timestamp": "2024-03-12T09:15:00Z", "sender": "Marta", "text": "hi"}\n'


def zip_bytes(files: dict[str, bytes], infos: list[zipfile.ZipInfo] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        for info in infos:
            zf.writestr(info, b"x")
    return buffer.getvalue()


def whatsapp_zip() -> bytes:
    return zip_bytes({"_chat.txt": WHATSAPP.encode(), "IMG-0001.jpg": b"\xff\xd8\xff" * 100})


def published(app) -> list[schemas.IngestRequested]:
    with app.extensions["chatlens.sessions"]() as session:
        rows = session.query(OutboxMessage).order_by(OutboxMessage.id).all()
        return [schemas.decode(r.message_type, r.body.encode()) for r in rows]


def assert_nothing_kept(app):
    with app.extensions["chatlens.sessions"]() as session:
        assert session.query(Job).count() == 0
        assert session.query(OutboxMessage).count() == 0
    assert stored_files(app) == []


def test_every_export_type_and_zips_of_several_are_accepted_in_one_request(app, client, auth):
    headers = auth()
    collection_id = create_collection(client, headers)
    several = zip_bytes(
        {
            "WhatsApp Chat with Team.zip": whatsapp_zip(),
            "Telegram/result.json": TELEGRAM.encode(),
            "conversations.json": CHATGPT.encode(),
        }
    )
    files = [
        ("WhatsApp Chat.txt", WHATSAPP.encode()),
        ("result.json", TELEGRAM.encode()),
        ("general.json", DISCORD.encode()),
        ("conversations.json", CHATGPT.encode()),
        ("chat.csv", CSV.encode()),
        ("chat.jsonl", JSONL.encode()),
        ("WhatsApp Chat - Team.zip", whatsapp_zip()),
        ("exports.zip", several),
    ]
    response = upload(client, headers, collection_id, files)
    assert response.status_code == 202, response.json
    assert [j["filename"] for j in response.json["jobs"]] == [name for name, _ in files]
    messages = published(app)
    assert [m.filename for m in messages] == [name for name, _ in files]
    assert {m.format for m in messages} == {"auto"}  # the worker detects the exact format
    assert len(stored_files(app)) == len(files)
    stored = app.config["CHATLENS_UPLOAD_DIR"] / messages[-1].upload_key
    assert stored.read_bytes() == several  # kept as uploaded: the worker reads it with archives


def test_a_forced_format_is_passed_on_to_the_worker(app, client, auth):
    headers = auth()
    collection_id = create_collection(client, headers)
    response = upload(
        client,
        headers,
        collection_id,
        [
            (
                "slack.zip",
                zip_bytes(
                    {"channels.json": b"[]", "users.json": b"[]", "general/2024-03-12.json": b"[]"}
                ),
            )
        ],
        format="slack",
        timezone="Europe/Lisbon",
    )
    assert response.status_code == 202, response.json
    [message] = published(app)
    assert (message.format, message.timezone) == ("slack", "Europe/Lisbon")


def test_the_format_field_accepts_every_format_the_worker_knows():
    # The worker's parsing.FORMATS; repeated because services never import each other.
    assert FORMATS == ("whatsapp", "telegram", "slack", "discord", "chatgpt", "csv", "jsonl")


def symlink_info() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("link.txt")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    "files, form, status, code",
    [
        (
            [("bomb.zip", zip_bytes({"zeros.txt": b"\0" * (5 * 1024 * 1024)}))],
            {},
            413,
            "archive_ratio",
        ),
        (
            [("evil.zip", zip_bytes({"_chat.txt": WHATSAPP.encode(), "../../etc/cron.d/x": b"x"}))],
            {},
            422,
            "archive_path_traversal",
        ),
        ([("abs.zip", zip_bytes({"/etc/passwd": b"x"}))], {}, 422, "archive_absolute_path"),
        (
            [("link.zip", zip_bytes({"_chat.txt": WHATSAPP.encode()}, [symlink_info()]))],
            {},
            422,
            "archive_symlink",
        ),
        (
            [("many.zip", zip_bytes({f"{i}.txt": b"x" for i in range(30)}))],
            {},
            413,
            "archive_too_many_entries",
        ),
        ([("broken.zip", b"PK\x03\x04 not really a zip")], {}, 422, "archive_corrupt"),
        ([("photos.zip", zip_bytes({"a.jpg": b"\xff\xd8"}))], {}, 422, "not_a_chat_export"),
        ([("result.json", b'{"name": "x", "values": [1, 2]}')], {}, 422, "not_a_chat_export"),
        ([("result.json", b"hello")], {}, 422, "not_a_chat_export"),
        ([("chat.csv", b"just one column\nvalue\n")], {}, 422, "not_a_chat_export"),
        ([("chat.jsonl", b"[1, 2]\n")], {}, 422, "not_a_chat_export"),
        ([("chat.jsonl", b'{"text": "unterminated\n{}\n')], {}, 422, "not_a_chat_export"),
        ([("result.json", b"\xed\xa0\x80 lone surrogate" * 10)], {}, 415, "not_text"),
        ([("chat.txt", WHATSAPP.encode())], {"format": "telegram"}, 415, "unsupported_type"),
        (
            [("chat.txt", WHATSAPP.encode()), ("notes.zip", zip_bytes({"../x.txt": b"x"}))],
            {},
            422,
            "archive_path_traversal",
        ),
    ],
)
def test_bad_files_refuse_the_whole_request_and_keep_nothing(
    app, client, auth, settings, files, form, status, code
):
    settings.archive_max_entries = 20
    headers = auth()
    collection_id = create_collection(client, headers)
    response = upload(client, headers, collection_id, files, **form)
    assert response.status_code == status, response.json
    error = response.json["error"]
    assert error["code"] == code
    assert files[-1][0] in error["message"]  # it names the file
    assert_nothing_kept(app)


def test_an_archive_refusal_names_the_entry(client, auth):
    headers = auth()
    collection_id = create_collection(client, headers)
    inner = zip_bytes({"../../escape.txt": b"x"})
    response = upload(
        client,
        headers,
        collection_id,
        [("exports.zip", zip_bytes({"team.zip": inner, "a.txt": b"x"}))],
    )
    assert response.status_code == 422
    assert "team.zip/../../escape.txt" in response.json["error"]["message"]


@pytest.mark.parametrize(
    "line",
    [
        "12/03/2024, 09:15 - Marta: hi",
        "[12.03.24, 09:15:42] Marta: hi",
        "\u200e[3/12/24, 9:15:42\u202fAM] Marta: hi",
        "12.3.2024 klo 9.15 - Marta: hi",
        "12/03/2024 à 09:15 - Marta: hi",
        "2024-03-12 09:15 - Marta: hi",
        "3/12/24, 9:15 a. m. - Marta: hi",
    ],
)
def test_whatsapp_lines_of_every_locale_pass_the_gate(tmp_path, line):
    from chatlens.gateway.sniff import sniff
    from chatlens.shared.archives import ArchiveLimits

    path = tmp_path / "chat.txt"
    path.write_text(f"\ufeff{line}\nsecond line of the message\n", encoding="utf-8")
    assert sniff("chat.txt", path, path.stat().st_size, "auto", ArchiveLimits()) == "auto"
