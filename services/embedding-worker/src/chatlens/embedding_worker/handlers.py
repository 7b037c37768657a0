"""Bus messages to work: ``IngestRequested`` (parse, chunk, embed, publish) and ``EmbedQuery``.

An ingest is published as numbered ``ChunksEmbedded`` batches and closed by one
``EmbeddingFinished``; batch k always holds messages [k*B, (k+1)*B) of the file in order, with
ids derived from the job and the batch number, so a redelivered request publishes exactly the
same batches again and the index, idempotent by (job, batch_no), adds nothing twice.

Outcomes are sorted here: a file that cannot be ingested is a handled outcome (``JobFailed``,
then ack), trouble in Dask is a :class:`~chatlens.shared.bus.TransientError` (retry, requeue).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

import numpy as np
from cachetools import LRUCache

from chatlens.embedding_worker import metrics
from chatlens.embedding_worker.chunking import assign_chunks, embedding_text
from chatlens.embedding_worker.embedding import MODEL_NAME, Embedder
from chatlens.embedding_worker.encoders import DIMENSIONS
from chatlens.embedding_worker.errors import GaveUp, IngestFailed, NothingImported, UploadMissing
from chatlens.embedding_worker.parsing import FORMATS, ParseResult, parse_any
from chatlens.shared import queues, schemas
from chatlens.shared.archives import ArchiveLimits
from chatlens.shared.bus import Delivery, PermanentError, TransientError
from chatlens.shared.handling import Publish, Routes
from chatlens.shared.schemas import ChatMessage

log = logging.getLogger(__name__)

SUPPORTED_FORMATS = frozenset({"auto", *FORMATS})
# Ids of the messages that make up one job's result, so a redelivery republishes the same ids.
_JOB_NAMESPACE = uuid.UUID("5b1f0a8e-3c57-4f0e-9d0a-7d3f2e1c6b90")


def _job_message_id(job_id: str, part: str) -> str:
    return uuid.uuid5(_JOB_NAMESPACE, f"{job_id}/{part}").hex


def batched(items: Iterable[ChatMessage], size: int) -> Iterator[list[ChatMessage]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class Handlers:
    """The worker's message handlers, built once by ``main()`` with the real bus and cluster."""

    def __init__(
        self,
        publish: Publish,
        embedder: Embedder,
        *,
        upload_dir: Path,
        batch_size: int = 512,
        pipeline_depth: int = 2,
        archive_limits: ArchiveLimits | None = None,
        query_cache_size: int = 4096,
    ) -> None:
        self.publish = publish
        # Query text -> its vector: later pages of a search, a question asked again and searches
        # across versions or collections send the same text, each a model pass and a Dask task.
        self._query_vectors: LRUCache[str, np.ndarray] | None = (
            LRUCache(maxsize=query_cache_size) if query_cache_size else None
        )
        self._query_lock = threading.Lock()  # the RPC server's handler threads share the cache
        # The gateway's limits (the same ARCHIVE_* settings): what it let in is read, no more.
        self.archive_limits = archive_limits or ArchiveLimits()
        self.embedder = embedder
        self.upload_root = Path(upload_dir).resolve()
        self.batch_size = batch_size
        self.pipeline_depth = pipeline_depth

    def routes(self) -> tuple[Routes, Routes]:
        """(the ingest queue's handler, the embedding RPC's handler)."""
        return (
            Routes(queues.INGEST, {schemas.IngestRequested: self.ingest}, with_delivery=True),
            Routes(
                queues.EMBEDDING_RPC, {schemas.EmbedQuery: self.embed_query}, with_delivery=True
            ),
        )

    # --- IngestRequested --------------------------------------------------------------------
    def ingest(self, request: schemas.Message, delivery: Delivery) -> None:
        """Parse, chunk, embed and publish one upload; returns once all of it is published."""
        if not isinstance(request, schemas.IngestRequested):
            raise PermanentError(f"{request.type} does not belong on the ingest queue")
        started = time.perf_counter()
        log.info(
            "ingest started",
            extra={
                "job_id": request.job_id,
                "upload": request.filename,
                "redelivered": delivery.redelivered,
            },
        )
        try:
            export = self._open(request)
            total = export.total or 0
            self.publish(
                schemas.JobProgressed(
                    job_id=request.job_id, stage="parsing", done=total, total=total
                )
            )
            # A problem found while streaming (an archive entry that turns out to be a bomb)
            # fails the job too; the index never seals a job without its final word.
            batches, embedded = self._publish_batches(request, export, total)
            if batches == 0:  # nothing was sent to the index: it must not seal an empty version
                raise NothingImported(_nothing_imported(request.filename, export))
        except IngestFailed as exc:
            self._refuse(request, exc)
            return
        except TransientError as exc:
            if not delivery.last:
                raise  # retried, then requeued: the next delivery may find Dask back
            self._refuse(
                request,
                GaveUp(
                    f"the upload could not be processed after "
                    f"{delivery.delivery_count + 1} attempts ({exc}); "
                    "upload it again"
                ),
            )
            return
        stats = {
            **export.diagnostics.as_stats(),
            "embedded": embedded,
            "batches": batches,
            "model": MODEL_NAME,
        }
        self.publish(
            schemas.EmbeddingFinished(
                id=_job_message_id(request.job_id, "finished"),
                job_id=request.job_id,
                org_id=request.org_id,
                collection_id=request.collection_id,
                batches=batches,
                stats=stats,
            )
        )
        seconds = time.perf_counter() - started
        metrics.INGESTS.labels("succeeded").inc()
        log.info(
            "ingest finished",
            extra={
                "job_id": request.job_id,
                "messages": stats["messages"],
                "embedded": embedded,
                "batches": batches,
                "seconds": round(seconds, 3),
                "messages_per_s": round(stats["messages"] / seconds, 1) if seconds else None,
            },
        )

    def _refuse(self, request: schemas.IngestRequested, exc: IngestFailed) -> None:
        """Fail the job with its reason (a handled outcome: logged at WARNING, acked)."""
        log.warning(
            "ingest refused", extra={"job_id": request.job_id, "code": exc.code, "reason": str(exc)}
        )
        metrics.INGESTS.labels(exc.code).inc()
        self.publish(schemas.JobFailed(job_id=request.job_id, code=exc.code, reason=str(exc)))

    def _open(self, request: schemas.IngestRequested) -> ParseResult:
        path = self._upload_path(request.upload_key)
        try:
            return parse_any(
                path,
                format=request.format,
                timezone=request.timezone,
                source_file=request.filename,
                limits=self.archive_limits,
            )
        except FileNotFoundError:
            raise UploadMissing(
                "the upload is not in the upload store (already processed "
                "and removed, or never stored)"
            ) from None
        except OSError as exc:
            raise UploadMissing(f"the upload cannot be read: {exc.strerror or exc}") from None

    def _upload_path(self, key: str) -> Path:
        """The upload's path, refusing any key that would lead outside the upload store."""
        try:
            path = (self.upload_root / key).resolve()
        except (ValueError, OSError) as exc:  # an embedded NUL, a symlink loop
            raise UploadMissing(f"invalid upload key: {exc}") from None
        if path == self.upload_root or not path.is_relative_to(self.upload_root):
            raise UploadMissing("the upload key points outside the upload store")
        return path

    def _publish_batches(
        self, request: schemas.IngestRequested, export: ParseResult, total: int
    ) -> tuple[int, int]:
        """Embed batch k+1.. on Dask while batch k is published; ``(batches, embedded)``."""
        window: deque = deque()
        batches = done = embedded = 0
        try:
            for batch_no, batch in enumerate(
                batched(assign_chunks(export.messages), self.batch_size)
            ):
                texts = [embedding_text(m) for m in batch if m.embeddable]
                window.append((batch_no, batch, self.embedder.submit(texts) if texts else None))
                if len(window) > self.pipeline_depth:
                    done, embedded = self._publish_batch(
                        request, *window.popleft(), done, embedded, total
                    )
                batches = batch_no + 1
            while window:
                done, embedded = self._publish_batch(
                    request, *window.popleft(), done, embedded, total
                )
        finally:
            for _, _, future in window:  # only left over when something failed
                if future is not None:
                    future.cancel()
        return batches, embedded

    def _publish_batch(
        self,
        request: schemas.IngestRequested,
        batch_no: int,
        batch: list[ChatMessage],
        future,
        done: int,
        embedded: int,
        total: int,
    ) -> tuple[int, int]:
        vectors = (
            self.embedder.result(future)
            if future is not None
            else np.zeros((0, DIMENSIONS), dtype=np.float32)
        )
        vector_ids = [m.message_id for m in batch if m.embeddable]
        if vectors.shape[0] != len(vector_ids):
            raise RuntimeError(f"{vectors.shape[0]} vectors for {len(vector_ids)} texts")
        self.publish(
            schemas.ChunksEmbedded(
                id=_job_message_id(request.job_id, f"batch/{batch_no}"),
                job_id=request.job_id,
                org_id=request.org_id,
                collection_id=request.collection_id,
                batch_no=batch_no,
                messages=batch,
                vector_ids=vector_ids,
                vectors=schemas.Vectors.from_array(vectors),
                model=MODEL_NAME,
            )
        )
        done, embedded = done + len(batch), embedded + len(vector_ids)
        metrics.MESSAGES.labels("parsed").inc(len(batch))
        metrics.MESSAGES.labels("embedded").inc(len(vector_ids))
        self.publish(
            schemas.JobProgressed(
                job_id=request.job_id, stage="embedding", done=done, total=max(total, done)
            )
        )
        return done, embedded

    # --- EmbedQuery (RPC) -------------------------------------------------------------------
    def embed_query(self, request: schemas.Message, delivery: Delivery) -> schemas.QueryEmbedded:
        """Embed a search query (or a few): in-process when few, else on Dask ahead of queued
        ingest batches (:meth:`Embedder.embed_queries`)."""
        if not isinstance(request, schemas.EmbedQuery):
            raise PermanentError(f"{request.type} does not belong on the embedding RPC queue")
        return schemas.QueryEmbedded(
            model=MODEL_NAME, vectors=schemas.Vectors.from_array(self._embed_queries(request.texts))
        )

    def _embed_queries(self, texts: list[str]) -> np.ndarray:
        """Vectors of ``texts``, from the cache where it has them; the rest embedded at once."""
        if self._query_vectors is None:
            return self.embedder.embed_queries(texts)
        with self._query_lock:
            known = {t: self._query_vectors[t] for t in texts if t in self._query_vectors}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        metrics.QUERY_CACHE.labels("hit").inc(len(texts) - len(missing))
        metrics.QUERY_CACHE.labels("miss").inc(len(missing))
        if missing:
            embedded = self.embedder.embed_queries(missing)
            fresh = dict(zip(missing, embedded, strict=True))
            with self._query_lock:
                self._query_vectors.update(fresh)
            known.update(fresh)
        return np.stack([known[t] for t in texts])


def _nothing_imported(filename: str, export: ParseResult) -> str:
    """Why a parsed file gave no message: how much was skipped, and the first reasons."""
    stats = export.diagnostics.as_stats()
    skipped, examples = stats["skipped_lines"], stats["skipped_examples"][:3]
    if not skipped:
        return f"{filename}: the export holds no messages"
    reasons = "; ".join(f"{e.get('line', e.get('path'))}: {e['reason']}" for e in examples)
    return (
        f"{filename}: no message could be read ({skipped} entries skipped as malformed, "
        f"e.g. {reasons})"
    )
