"""Clean-up (``python -m chatlens.gateway cleanup``): finished jobs past retention go with their
uploads, queued or running ones never do; published outbox rows past retention go, unpublished
never; stale uploads (interrupted, or of a finished or unrecorded job) go once past the grace, and
a fresh one stays. Runs on SQLite, MariaDB and PostgreSQL (the ``database_url`` fixture)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import select, update

from chatlens.gateway import cleanup
from chatlens.gateway.db import Job, OutboxMessage, utcnow

from .test_api import WHATSAPP, create_collection, stored_files, upload

RETENTION = timedelta(days=90)
GRACE = timedelta(hours=24)


def _age(path, seconds: float) -> None:
    stamp = path.stat().st_mtime - seconds
    os.utime(path, (stamp, stamp))


def test_old_finished_jobs_and_stale_uploads_go_and_live_work_stays(app, client, auth):
    headers = auth()
    collection = create_collection(client, headers)
    jobs = []
    for name in ("old-done", "old-failed", "old-queued", "new-done"):
        response = upload(client, headers, collection, [(f"{name}.txt", WHATSAPP.encode())])
        assert response.status_code == 202, response.json
        jobs.append(response.json["jobs"][0]["id"])
    old_done, old_failed, old_queued, new_done = jobs
    sessions = app.extensions["chatlens.sessions"]
    long_ago = utcnow() - RETENTION - timedelta(days=1)
    with sessions.begin() as session:
        for job_id, status, when in (
            (old_done, "succeeded", long_ago),
            (old_failed, "failed", long_ago),
            (old_queued, "queued", long_ago),
            (new_done, "succeeded", utcnow()),
        ):
            session.execute(
                update(Job).where(Job.id == job_id).values(status=status, updated_at=when)
            )
        session.execute(update(OutboxMessage).values(published_at=long_ago))
        session.add(OutboxMessage(message_id="u" * 32, message_type="x", body="{}"))
    root = app.config["CHATLENS_UPLOAD_DIR"]
    org = next(p for p in root.iterdir() if p.is_dir() and p.name != cleanup.INCOMING)
    orphan, fresh_orphan = org / ("f" * 32), org / ("e" * 32)
    for folder in (orphan, fresh_orphan):
        folder.mkdir()
        (folder / "export.txt").write_text(WHATSAPP)
    incoming = root / cleanup.INCOMING
    incoming.mkdir(exist_ok=True)
    interrupted, receiving = incoming / ".incoming-a", incoming / ".incoming-b"
    interrupted.write_bytes(b"half an upl")
    receiving.write_bytes(b"an upload in")
    for path in (org / new_done, org / old_queued, orphan, interrupted):
        _age(path, GRACE.total_seconds() + 60)

    report = cleanup.clean(sessions, root, job_retention=RETENTION, upload_grace=GRACE, batch=1)

    with sessions() as session:
        left = set(session.scalars(select(Job.id)))
        unpublished = session.scalars(select(OutboxMessage.message_id)).all()
    assert left == {old_queued, new_done}
    assert unpublished == ["u" * 32]
    # The finished jobs' folders went with them; new_done's finished job's folder is stale too.
    assert (report.jobs, report.incoming_files) == (2, 1)
    assert report.upload_folders == 2  # new_done's (its job is finished) and the orphan
    kept = {path.split("/")[1] for path in stored_files(app) if not path.startswith(".")}
    assert kept == {old_queued, fresh_orphan.name}
    assert receiving.exists() and not interrupted.exists()
    again = cleanup.clean(sessions, root, job_retention=RETENTION, upload_grace=GRACE)
    assert again == cleanup.CleanupReport(0, 0, 0, 0)


def test_the_command_prints_what_it_removed(settings, tmp_path):
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": settings.database_url,
        "UPLOAD_DIR": str(tmp_path / "uploads"),
    }
    run = [sys.executable, "-m", "chatlens.gateway"]
    migrated = subprocess.run(
        [*run, "migrate"], env=env, capture_output=True, text=True, timeout=120
    )
    assert migrated.returncode == 0, migrated.stderr
    done = subprocess.run(
        [*run, "cleanup", "--job-retention-days", "30", "--search-retention-days", "30"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "jobs": 0,
        "outbox_messages": 0,
        "upload_folders": 0,
        "incoming_files": 0,
        "search_queries": 0,
        "webhook_deliveries": 0,
    }
