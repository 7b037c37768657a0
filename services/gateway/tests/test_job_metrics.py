"""Jobs are counted by the states they enter, with the duration of finished ones, once the
transaction that moved them commits."""

from __future__ import annotations

import io

from prometheus_client import REGISTRY

from chatlens.gateway import jobs
from chatlens.shared import schemas

from .conftest import WHATSAPP


def counted(status: str) -> float:
    return REGISTRY.get_sample_value("chatlens_gateway_jobs_total", {"status": status}) or 0.0


def finished(status: str) -> float:
    return (
        REGISTRY.get_sample_value("chatlens_gateway_job_seconds_count", {"status": status}) or 0.0
    )


def test_jobs_are_counted_by_state_once_each_change_commits(app, client, auth):
    headers = auth()
    collection = client.post("/api/v1/collections", json={"name": "m"}, headers=headers).json
    before = {status: counted(status) for status in ("queued", "running", "succeeded", "failed")}
    before_finished = finished("succeeded")
    response = client.post(
        f"/api/v1/collections/{collection['id']}/uploads",
        data={"files": [(io.BytesIO(WHATSAPP.encode()), "a.txt")]},
        headers=headers,
        content_type="multipart/form-data",
    )
    job_id = response.json["jobs"][0]["id"]
    assert counted("queued") == before["queued"] + 1
    sessions = app.extensions["chatlens.sessions"]

    with sessions() as session:  # applied, then rolled back: not counted
        jobs.apply_event(
            session, schemas.JobProgressed(job_id=job_id, stage="parsing", done=1, total=2)
        )
        session.rollback()
    assert counted("running") == before["running"]

    for event in (
        schemas.JobProgressed(job_id=job_id, stage="parsing", done=1, total=2),
        schemas.JobProgressed(job_id=job_id, stage="embedding", done=2, total=2),
        schemas.IndexUpdated(
            job_id=job_id, collection_id=collection["id"], version=1, stats={"messages": 2}
        ),
        schemas.JobFailed(job_id=job_id, code="late", reason="ignored: terminal"),
    ):
        with sessions() as session:
            jobs.apply_event(session, event)
            session.commit()
    assert counted("running") == before["running"] + 1  # entered once, progressed twice
    assert counted("succeeded") == before["succeeded"] + 1
    assert counted("failed") == before["failed"]
    assert finished("succeeded") == before_finished + 1
