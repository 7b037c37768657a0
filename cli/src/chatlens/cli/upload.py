"""``chatlens upload COLLECTION FILES…``: streamed uploads with progress, resumable, then the jobs.

Each file goes in its own request, so a refused file does not hold back the others and an
interruption loses at most the file in flight. Every accepted file is written at once to a small
state file, ``(server, collection, sha256) → job``; a second run of the same command skips those
files (showing their job's status) and uploads only the rest. If the run is cut between the
server's 202 and that write, the file is uploaded again, and the index's deduplication makes the
second job add nothing ("0 new, 207 already there").
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from chatlens.cli.client import ApiError, Client
from chatlens.cli.config import read_json, write_json

TERMINAL = ("succeeded", "failed")
Bar = Callable[..., tqdm]


class UploadState:
    """The files already accepted, keyed by server, collection and content."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.uploads: dict[str, dict] = read_json(path).get("uploads", {})

    @staticmethod
    def key(server: str, collection_id: str, sha256: str) -> str:
        return f"{server.rstrip('/')} {collection_id} {sha256}"

    def get(self, server: str, collection_id: str, sha256: str) -> dict | None:
        return self.uploads.get(self.key(server, collection_id, sha256))

    def record(
        self, server: str, collection_id: str, sha256: str, job_id: str, filename: str
    ) -> None:
        self.uploads[self.key(server, collection_id, sha256)] = {
            "job_id": job_id,
            "filename": filename,
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        write_json(self.path, {"uploads": self.uploads})

    def forget(self, server: str, collection_id: str, sha256: str) -> None:
        self.uploads.pop(self.key(server, collection_id, sha256), None)
        write_json(self.path, {"uploads": self.uploads})


@dataclass
class FileOutcome:
    path: Path
    job_id: str | None = None
    skipped: bool = False
    error: str | None = None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fp:
        while chunk := fp.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_collection(client: Client, ref: str, create: bool = False) -> dict:
    """A collection by id or by name; created by that name with ``create``."""
    collections = client.collections()
    for collection in collections:
        if collection["id"] == ref:
            return collection
    named = [c for c in collections if c["name"] == ref]
    if len(named) > 1:
        raise SystemExit(f"error: {len(named)} collections are named {ref!r}; give its id")
    if named:
        return named[0]
    if create:
        return client.create_collection(ref)
    raise SystemExit(f"error: no collection {ref!r} (pass --create to create it)")


def upload_files(
    client: Client,
    collection_id: str,
    paths: list[Path],
    state: UploadState,
    *,
    fmt: str = "auto",
    timezone: str | None = None,
    retry_failed: bool = False,
    bar: Bar = tqdm,
) -> list[FileOutcome]:
    """Upload what the state does not already hold, one bar per file and one overall."""
    outcomes, to_send = [], []
    for path in paths:
        sha = sha256_of(path)
        known = state.get(client.base_url, collection_id, sha)
        if known is not None:
            job = _job_or_none(client, known["job_id"])
            if job is not None and not (retry_failed and job["status"] == "failed"):
                tqdm.write(f"{path.name}: already uploaded as job {job['id']} ({job['status']})")
                outcomes.append(FileOutcome(path, job["id"], skipped=True))
                continue
            state.forget(client.base_url, collection_id, sha)
        outcome = FileOutcome(path)
        outcomes.append(outcome)
        to_send.append((outcome, sha))

    total = sum(o.path.stat().st_size for o, _ in to_send)
    overall = bar(
        total=total,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc="all files",
        position=0,
        disable=not to_send,
    )
    base = 0
    try:
        for outcome, sha in to_send:
            size = outcome.path.stat().st_size
            file_bar = bar(
                total=size,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=outcome.path.name,
                position=1,
                leave=False,
            )

            def progress(sent: int, body: int, file_bar=file_bar, size=size, base=base) -> None:
                # The body is the file plus a few hundred bytes of multipart framing.
                done = min(size, max(0, sent - (body - size)))
                file_bar.update(done - file_bar.n)
                overall.update(base + done - overall.n)

            try:
                job = client.upload_file(collection_id, outcome.path, fmt, timezone, progress)
            except ApiError as exc:
                outcome.error = f"{exc.code}: {exc.message}"
                tqdm.write(f"{outcome.path.name}: refused ({exc.status} {outcome.error})")
            else:
                outcome.job_id = job["id"]
                state.record(client.base_url, collection_id, sha, job["id"], outcome.path.name)
                tqdm.write(f"{outcome.path.name}: accepted as job {job['id']}")
            finally:
                file_bar.close()
            base += size
            overall.update(base - overall.n)
    finally:
        overall.close()
    return outcomes


def _job_or_none(client: Client, job_id: str) -> dict | None:
    try:
        return client.job(job_id)
    except ApiError as exc:
        if exc.status == 404:  # the server forgot it (reset, collection deleted): upload again
            return None
        raise


def follow_jobs(
    client: Client, outcomes: list[FileOutcome], *, poll_s: float = 1.0, bar: Bar = tqdm
) -> dict[str, dict]:
    """Poll the jobs until each ends, with a bar per job; their final states by job id."""
    names = {o.job_id: o.path.name for o in outcomes if o.job_id}
    final: dict[str, dict] = {}
    bars = {
        job_id: bar(total=1, unit="msg", desc=name, position=i, leave=False)
        for i, (job_id, name) in enumerate(names.items())
    }
    try:
        while len(final) < len(names):
            for job_id in names.keys() - final.keys():
                job = client.job(job_id)
                progress, job_bar = job["progress"], bars[job_id]
                job_bar.set_description(
                    f"{names[job_id]}: {progress['stage'] or job['status']}", refresh=False
                )
                if progress["total"]:
                    job_bar.total = progress["total"]
                    job_bar.n = min(progress["done"], progress["total"])
                job_bar.refresh()
                if job["status"] in TERMINAL:
                    final[job_id] = job
            if len(final) < len(names):
                time.sleep(poll_s)
    finally:
        for job_bar in bars.values():
            job_bar.close()
    return final


def describe(job: dict) -> str:
    """One line on a job's outcome: how many messages were new and how many already there."""
    if job["status"] == "failed":
        error = job.get("error") or {}
        return f"failed ({error.get('code', '?')}: {error.get('message', '')})"
    if job["status"] != "succeeded":
        return job["status"]
    stats = job.get("stats") or {}
    if "added" in stats:
        line = f"{stats['added']} new, {stats.get('duplicates', 0)} already there"
    else:
        line = f"{stats.get('messages', '?')} messages"
    return f"{line} (version {job['version']})" if job.get("version") else line
