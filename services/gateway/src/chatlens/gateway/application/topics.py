"""Topics of a collection's messages: start the job, or read what it computed.

The index replica owning the collection computes them (KMeans over the vectors it holds, on Dask;
``chatlens.index.analytics.topics_job``) and caches each result per (version, filters,
parameters). Starting looks in that cache first (an answer at once), then joins a job already
queued or running for the same request, and only then records a new job (kind ``topics``) with
its ``TopicsRequested`` in the same transaction (the outbox). Progress and the end come back as
job events, like an ingest's.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from chatlens.gateway import jobs
from chatlens.gateway.application.analytics import ReportQuery, filters_of, zone_of
from chatlens.gateway.application.errors import BadRequest, Conflict, NotFound
from chatlens.gateway.application.ports import Backends, Caller
from chatlens.gateway.application.versions import indexed_version, resolve_version
from chatlens.gateway.db import Job
from chatlens.gateway.metrics import job_entered
from chatlens.shared import schemas

KIND = "topics"


@dataclass(frozen=True)
class Started:
    """Either the cached ``result`` (nothing to wait for) or the ``job`` computing it."""

    version: int
    result: dict[str, Any] | None = None
    job: dict[str, Any] | None = None


def params_of(
    k: int | None = None,
    k_min: int = 4,
    k_max: int = 20,
    min_words: int = 3,
    map_points: int = 5000,
    bucket: str = "month",
) -> schemas.TopicsParams:
    """The parameters, each out-of-range value refused with its own code (400)."""
    low, high = schemas.TOPICS_K_LIMITS
    if not low <= k_min <= k_max <= high:
        raise BadRequest(
            "invalid_k_range",
            f"k_min ({k_min}) and k_max ({k_max}) must lie "
            f"within {low}..{high}, k_min not above k_max",
        )
    if k is not None and not k_min <= k <= k_max:
        raise BadRequest("k_out_of_range", f"k {k} is outside {k_min}..{k_max}")
    if not 0 <= map_points <= schemas.TOPICS_MAP_LIMIT:
        raise BadRequest(
            "map_points_out_of_range",
            f"map_points {map_points} is outside 0..{schemas.TOPICS_MAP_LIMIT}",
        )
    if not 1 <= min_words <= 50:
        raise BadRequest("min_words_out_of_range", f"min_words {min_words} is outside 1..50")
    return schemas.TopicsParams(
        k=k, k_min=k_min, k_max=k_max, min_words=min_words, map_points=map_points, bucket=bucket
    )


def _lookup(
    backends: Backends,
    caller: Caller,
    collection_id: str,
    query: ReportQuery,
    params: schemas.TopicsParams,
) -> tuple[schemas.TopicsFound, schemas.SearchFilters]:
    filters = filters_of(query, zone_of(query.timezone))
    if indexed_version(backends, caller, collection_id) == 0:
        raise Conflict("collection_empty", "nothing has been indexed in this collection")
    version = resolve_version(backends, caller, collection_id, query.version)
    found = backends.rpc.call(
        schemas.TopicsLookup(
            org_id=caller.org_id,
            collection_id=collection_id,
            version=version,
            filters=filters,
            timezone=query.timezone,
            params=params,
        ),
        schemas.TopicsFound,
    )
    return found, filters


def _answer(found: schemas.TopicsFound, query: ReportQuery) -> dict[str, Any]:
    assert found.result is not None
    return {**found.result, "version": found.version, "timezone": query.timezone}


def result(
    backends: Backends,
    caller: Caller,
    collection_id: str,
    query: ReportQuery,
    params: schemas.TopicsParams,
) -> dict[str, Any]:
    """The computed topics; ``topics_not_computed`` (404) until a job computed them."""
    found, _ = _lookup(backends, caller, collection_id, query, params)
    if found.result is None:
        raise NotFound(
            "topics_not_computed",
            f"no topics computed for version {found.version} "
            "with these filters and parameters: start them with POST",
        )
    return _answer(found, query)


def start(
    backends: Backends,
    caller: Caller,
    collection_id: str,
    query: ReportQuery,
    params: schemas.TopicsParams,
) -> Started:
    found, filters = _lookup(backends, caller, collection_id, query, params)
    if found.result is not None:
        return Started(version=found.version, result=_answer(found, query))
    request = {
        "version": found.version,
        "filters": filters.model_dump(mode="json"),
        "timezone": query.timezone,
        "params": params.model_dump(mode="json"),
    }
    key = hashlib.sha256(json.dumps(request, sort_keys=True).encode("utf-8")).hexdigest()
    with backends.sessions() as session:
        collection = jobs.get_collection(session, caller.org_id, collection_id)
        running = session.scalars(
            select(Job)
            .where(
                Job.collection_id == collection.id,
                Job.kind == KIND,
                Job.sha256 == key,
                Job.status.in_(("queued", "running")),
            )
            .order_by(Job.created_at)
        ).first()
        if running is not None:  # the same request is being computed: follow that job
            return Started(version=found.version, job=jobs.job_view(running))
        job = Job(
            org_id=caller.org_id,
            collection_id=collection.id,
            kind=KIND,
            filename=f"topics of version {found.version}",
            upload_key="",
            sha256=key,
            size=0,
            status="queued",
            done=0,
            total=0,
            created_by=caller.user_id,
        )
        session.add(job)
        session.flush()  # the job's id
        job_entered(session, job, "queued")
        jobs.add_to_outbox(
            session,
            schemas.TopicsRequested(
                job_id=job.id,
                org_id=caller.org_id,
                collection_id=collection.id,
                version=found.version,
                filters=filters,
                timezone=query.timezone,
                params=params,
            ),
        )
        session.commit()
        view = jobs.job_view(job)
    backends.wake_outbox()
    return Started(version=found.version, job=view)
