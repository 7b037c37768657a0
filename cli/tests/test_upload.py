"""``chatlens login`` and ``chatlens upload`` against the real gateway app over loopback HTTP."""

import io
import json
import os
import stat
import threading
import time

import pytest
from tqdm import tqdm

from chatlens.cli.__main__ import main
from chatlens.cli.client import Client
from chatlens.cli.config import Credentials
from chatlens.cli.upload import FileOutcome, UploadState, describe, follow_jobs, upload_files

from .conftest import EMAIL, PASSWORD


def whatsapp(path, messages: int, tag: str):
    path.write_text(
        "".join(
            f"12/03/2024, 09:{i % 60:02d} - Marta: message {i} of {tag}\n" for i in range(messages)
        )
    )
    return path


def login(monkeypatch, password=PASSWORD) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(["login", "--email", EMAIL, "--password-stdin"])


def jobs_of(app) -> list:
    from chatlens.gateway.db import Job

    with app.extensions["chatlens.sessions"]() as session:
        return sorted(session.query(Job).all(), key=lambda j: j.created_at)


def stored_files(app) -> list:
    root = app.config["CHATLENS_UPLOAD_DIR"]
    return sorted(p.name for p in root.rglob("*") if p.is_file())


def apply(app, event) -> None:
    from chatlens.gateway import jobs

    with app.extensions["chatlens.sessions"]() as session:
        jobs.apply_event(session, event)
        session.commit()


def test_login_keeps_the_tokens_privately_and_upload_uses_them(
    gateway, cli_env, monkeypatch, tmp_path, capsys
):
    assert login(monkeypatch, "wrong") == 1
    assert "invalid_credentials" in capsys.readouterr().err
    assert login(monkeypatch) == 0
    config = cli_env / "config.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    stored = json.loads(config.read_text())
    assert stored["url"] == gateway.url and stored["access_token"] and stored["refresh_token"]

    export = whatsapp(tmp_path / "team.txt", 5, "team")
    assert main(["upload", "Team", str(export), "--create", "--no-wait"]) == 0
    [job] = jobs_of(gateway)
    assert job.filename == "team.txt" and job.status == "queued"
    assert "team.txt: accepted as job" in capsys.readouterr().out


def test_upload_without_login_says_how_to_log_in(cli_env, tmp_path, capsys):
    export = whatsapp(tmp_path / "team.txt", 2, "team")
    assert main(["upload", "Team", str(export)]) == 1
    assert "chatlens login" in capsys.readouterr().err


class InterruptedAtB(tqdm):
    """A progress bar that presses Ctrl-C once b.txt is partly sent."""

    def update(self, n=1):
        shown = super().update(n)
        if self.desc == "b.txt" and self.n > 64 * 1024:
            raise KeyboardInterrupt
        return shown


def test_an_interrupted_upload_resumes_and_uploads_each_file_once(
    gateway, cli_env, monkeypatch, tmp_path, capsys
):
    assert login(monkeypatch) == 0
    files = [
        whatsapp(tmp_path / "a.txt", 10, "a"),
        whatsapp(tmp_path / "b.txt", 8000, "b"),
        whatsapp(tmp_path / "c.txt", 10, "c"),
    ]
    credentials = Credentials.load(os.environ)
    client = Client(credentials.url, credentials.access_token)
    collection_id = client.create_collection("Team")["id"]

    with pytest.raises(KeyboardInterrupt):
        upload_files(
            client, collection_id, files, UploadState(cli_env / "uploads.json"), bar=InterruptedAtB
        )
    assert [j.filename for j in jobs_of(gateway)] == ["a.txt"]
    # The server sees the connection drop and keeps nothing of b.txt.
    deadline = time.monotonic() + 10
    while stored_files(gateway) != ["a.txt"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stored_files(gateway) == ["a.txt"]

    capsys.readouterr()
    assert main(["upload", collection_id, *map(str, files), "--no-wait"]) == 0
    out = capsys.readouterr().out
    first = jobs_of(gateway)[0].id
    assert f"a.txt: already uploaded as job {first} (queued)" in out
    assert "b.txt: accepted as job" in out and "c.txt: accepted as job" in out
    assert [j.filename for j in jobs_of(gateway)] == ["a.txt", "b.txt", "c.txt"]
    assert stored_files(gateway) == ["a.txt", "b.txt", "c.txt"]
    root = gateway.config["CHATLENS_UPLOAD_DIR"]
    assert (root / jobs_of(gateway)[1].upload_key).read_bytes() == files[1].read_bytes()

    # A third run has nothing left to send.
    assert main(["upload", collection_id, *map(str, files), "--no-wait"]) == 0
    assert capsys.readouterr().out.count("already uploaded") == 3
    assert len(jobs_of(gateway)) == 3


def test_upload_follows_the_jobs_and_says_how_many_messages_were_new(
    gateway, cli_env, monkeypatch, tmp_path, capsys
):
    from chatlens.shared import schemas

    assert login(monkeypatch) == 0
    files = [
        whatsapp(tmp_path / "march.txt", 20, "march"),
        whatsapp(tmp_path / "march-again.txt", 21, "again"),
        whatsapp(tmp_path / "broken.txt", 3, "broken"),
    ]
    outcomes = {
        "march.txt": [
            schemas.JobProgressed(job_id="", stage="parsing", done=10, total=207),
            schemas.IndexUpdated(
                job_id="",
                collection_id="",
                version=1,
                stats={"messages": 207, "added": 207, "duplicates": 0},
            ),
        ],
        "march-again.txt": [
            schemas.IndexUpdated(
                job_id="",
                collection_id="",
                version=2,
                stats={"messages": 207, "added": 0, "duplicates": 207},
            )
        ],
        "broken.txt": [schemas.JobFailed(job_id="", code="parse_failed", reason="no message line")],
    }

    def pipeline():
        """Stands in for the workers: moves each job along once it exists."""
        done: set[str] = set()
        deadline = time.monotonic() + 30
        while len(done) < 3 and time.monotonic() < deadline:
            for job in jobs_of(gateway):
                if job.id not in done:
                    for event in outcomes[job.filename]:
                        apply(gateway, event.model_copy(update={"job_id": job.id}))
                    done.add(job.id)
            time.sleep(0.05)

    worker = threading.Thread(target=pipeline, daemon=True)
    worker.start()
    assert main(["upload", "Team", *map(str, files), "--create"]) == 1  # one job failed
    worker.join()
    out = capsys.readouterr().out
    assert "march.txt: 207 new, 0 already there (version 1)" in out
    assert "march-again.txt: 0 new, 207 already there (version 2)" in out
    assert "broken.txt: failed (parse_failed: no message line)" in out


def test_a_refused_file_does_not_hold_back_the_others(
    gateway, cli_env, monkeypatch, tmp_path, capsys
):
    assert login(monkeypatch) == 0
    good = whatsapp(tmp_path / "good.txt", 3, "good")
    bad = tmp_path / "notes.pdf"
    bad.write_bytes(b"%PDF-1.4")
    assert main(["upload", "Team", str(bad), str(good), "--create", "--no-wait"]) == 1
    out = capsys.readouterr().out
    assert "notes.pdf: refused (415 unsupported_type:" in out
    assert "good.txt: accepted as job" in out
    assert [j.filename for j in jobs_of(gateway)] == ["good.txt"]
    state = json.loads((cli_env / "uploads.json").read_text())["uploads"]
    assert [u["filename"] for u in state.values()] == ["good.txt"]


def test_an_access_token_about_to_expire_is_refreshed_and_kept(
    gateway, cli_env, fake_auth, tmp_path
):
    from chatlens.cli.config import write_json

    expiring = fake_auth.tokens(ttl_s=20)
    write_json(cli_env / "config.json", {"url": gateway.url, **expiring})
    before = fake_auth.refreshes
    export = whatsapp(tmp_path / "team.txt", 2, "team")
    assert main(["upload", "Team", str(export), "--create", "--no-wait"]) == 0
    assert fake_auth.refreshes == before + 1
    stored = json.loads((cli_env / "config.json").read_text())
    assert stored["refresh_token"] != expiring["refresh_token"]
    assert stored["access_token"] != expiring["access_token"]


def test_follow_jobs_waits_for_every_job_to_end(gateway, cli_env, monkeypatch, tmp_path):
    from chatlens.shared import schemas

    assert login(monkeypatch) == 0
    credentials = Credentials.load(os.environ)
    client = Client(credentials.url, credentials.access_token)
    collection_id = client.create_collection("Team")["id"]
    path = whatsapp(tmp_path / "a.txt", 3, "a")
    job = client.upload_file(collection_id, path)
    timer = threading.Timer(
        0.3,
        apply,
        (
            gateway,
            schemas.IndexUpdated(
                job_id=job["id"],
                collection_id=collection_id,
                version=1,
                stats={"messages": 3, "added": 3, "duplicates": 0},
            ),
        ),
    )
    timer.start()
    final = follow_jobs(client, [FileOutcome(path, job["id"])], poll_s=0.05)
    assert final[job["id"]]["status"] == "succeeded"
    assert describe(final[job["id"]]) == "3 new, 0 already there (version 1)"


@pytest.mark.parametrize(
    "job, line",
    [
        (
            {"status": "succeeded", "version": 4, "stats": {"added": 207, "duplicates": 0}},
            "207 new, 0 already there (version 4)",
        ),
        ({"status": "succeeded", "version": None, "stats": {"messages": 9}}, "9 messages"),
        (
            {"status": "failed", "error": {"code": "archive_ratio", "message": "a bomb"}},
            "failed (archive_ratio: a bomb)",
        ),
        ({"status": "running"}, "running"),
    ],
)
def test_describe_says_what_a_job_did(job, line):
    assert describe(job) == line
