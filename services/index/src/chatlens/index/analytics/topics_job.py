"""The topics job: a version's vectors and texts in, topics out, on Dask, cached.

Runs in the index replica that owns the collection, which holds the vectors (the FAISS segments)
and the texts (the columns): nothing is shipped to another service. The heavy steps (a KMeans
per candidate k and its silhouette, the final KMeans, the t-SNE map) are Dask tasks, like the
embedding and LLM work: an in-process ``LocalCluster`` in the embedded default, the cluster at
``DASK_SCHEDULER_ADDRESS`` when distributed. Progress goes to the gateway as ``TopicsProgressed``
(reading, clustering, labelling, mapping); the result is written to ``TopicsCache`` last, so a
job that fails leaves nothing, and a request whose result is cached is answered at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from distributed import Client, as_completed
from sklearn.metrics import silhouette_score

from chatlens.index.analytics import topics
from chatlens.index.analytics.frame import with_people
from chatlens.index.analytics.language import DEFAULT_LANGUAGES, stop_list
from chatlens.index.analytics.topics_cache import TopicsCache, key_of
from chatlens.index.manifests import ManifestReader
from chatlens.index.storage.segment import Segment, SegmentCache
from chatlens.index.tombstones import Tombstones, both
from chatlens.shared import compute as dask_compute
from chatlens.shared import tracing
from chatlens.shared.bus import PermanentError
from chatlens.shared.handling import Delivery
from chatlens.shared.schemas import (
    JobFailed,
    Message,
    SearchFilters,
    TopicsComputed,
    TopicsFound,
    TopicsLookup,
    TopicsParams,
    TopicsProgressed,
    TopicsRequested,
)

log = logging.getLogger(__name__)

# Representatives' text is cut here (a long paste would bloat the result).
TEXT_LIMIT = 500
_BUCKET_FORMAT = {"month": "%Y-%m", "week": "%G-W%V"}


@dataclass(frozen=True)
class Gathered:
    """The clustered messages (authored text with a vector and at least ``min_words`` words)."""

    ids: list[str]
    texts: list[str]
    senders: list[str]
    sent_at: pa.Array
    vectors: np.ndarray
    messages: int  # authored messages that passed the filters
    noise: int  # of those, too short or without a vector


def gather(
    segments: list[Segment],
    deleted: frozenset[str],
    filters: SearchFilters,
    tombstones: Tombstones,
    min_words: int,
) -> Gathered:
    ids: list[str] = []
    texts: list[str] = []
    senders: list[str] = []
    times, vectors = [], []
    messages = 0
    for segment in segments:
        table = segment.table
        authored = np.asarray(
            pc.and_(pc.equal(table["kind"].cast(pa.string()), "text"), pc.invert(table["deleted"])),
            dtype=bool,
        )
        mask = both(segment.columns.mask(filters), tombstones.alive(segment, deleted))
        if mask is not None:
            authored &= np.asarray(mask, dtype=bool)
        messages += int(authored.sum())
        wanted = authored & (np.asarray(table["words"]) >= min_words)
        rows = np.flatnonzero(wanted[segment.row_positions])  # vector rows of wanted messages
        if len(rows) == 0:
            continue
        positions = segment.row_positions[rows]
        order = np.argsort(positions, kind="stable")  # in the segment's message order
        rows, positions = rows[order], positions[order]
        vectors.append(segment.exact.reconstruct_n(0, segment.exact.ntotal)[rows])
        picked = table.take(pa.array(positions))
        ids += picked["message_id"].to_pylist()
        texts += picked["text"].to_pylist()
        senders += picked["sender"].cast(pa.string()).to_pylist()
        times.append(picked["sent_at"])
    dim = vectors[0].shape[1] if vectors else 0
    return Gathered(
        ids=ids,
        texts=texts,
        senders=senders,
        sent_at=pa.chunked_array(times, pa.timestamp("us", tz="UTC")).combine_chunks()
        if times
        else pa.array([], pa.timestamp("us", tz="UTC")),
        vectors=np.vstack(vectors) if vectors else np.zeros((0, dim), np.float32),
        messages=messages,
        noise=messages - len(ids),
    )


def buckets(sent_at: pa.Array, bucket: str, timezone: str) -> np.ndarray:
    local = sent_at.cast(pa.timestamp("us", tz=timezone))
    return np.asarray(pc.strftime(local, format=_BUCKET_FORMAT[bucket]).to_pylist(), dtype=object)


Progress = Callable[[str, int, int], None]


def compute(
    data: Gathered,
    params: TopicsParams,
    timezone: str,
    client: Client,
    progress: Progress,
    languages: tuple[str, ...] = DEFAULT_LANGUAGES,
) -> dict:
    """The topics of ``data`` (see ``topics``), the heavy steps on ``client``'s cluster."""
    count = len(data.ids)
    ks = (
        [params.k]
        if params.k is not None
        else topics.candidate_ks(count, params.k_min, params.k_max)
    )
    if not ks or ks[0] >= count:
        raise PermanentError(
            f"{count} messages of at least {params.min_words} words: too few "
            f"for {ks[0] if ks else params.k_min} topics",
            code="too_few_messages",
        )
    sample_rows = topics.sample_rows(count, topics.SILHOUETTE_SAMPLE)
    # hash=False: a key of this run's own. With the default (a key from the data's hash), a job
    # retried right after a failure shared its scattered data with the failed run, whose clean-up
    # released it under the new run's tasks ("lost dependencies").
    sample = client.scatter(data.vectors[sample_rows], hash=False)
    progress("clustering", 0, len(ks) + 1)
    scores: dict[int, float] = {}
    with tracing.span(
        "dask submit topics.silhouette",
        "client",
        {"chatlens.ks": len(ks), "chatlens.rows": len(sample_rows)},
    ):  # each task's span (on its worker) continues this one
        scoring = client.map(
            topics.silhouette_of, ks, sample=sample, trace_context=tracing.carrier(), pure=False
        )
    for done, future in enumerate(as_completed(scoring), start=1):
        scores[ks[scoring.index(future)]] = future.result()
        progress("clustering", done, len(ks) + 1)
    k = max(ks, key=lambda candidate: (scores[candidate], -candidate))
    map_rows = topics.sample_rows(count, params.map_points)
    # The map does not need the topics: it runs beside the final KMeans.
    mapped = None
    if params.map_points and count:
        with tracing.span("dask submit topics.map_2d", "client", {"chatlens.rows": len(map_rows)}):
            mapped = client.submit(
                topics.map_2d, data.vectors[map_rows], trace_context=tracing.carrier(), pure=False
            )
    with tracing.span(
        "dask submit topics.fit", "client", {"chatlens.k": k, "chatlens.rows": count}
    ):
        fitting = client.submit(
            topics.fit,
            client.scatter(data.vectors, hash=False),
            k,
            trace_context=tracing.carrier(),
            pure=False,
        )
    labels, centroids = fitting.result()
    progress("clustering", len(ks) + 1, len(ks) + 1)
    progress("labelling", 0, 1)
    found_terms = topics.terms(data.texts, labels, k, stop_list(languages))
    closest = topics.representatives(data.vectors, labels, centroids)
    sizes = np.bincount(labels, minlength=k)
    silhouette = (
        float(silhouette_score(data.vectors[sample_rows], labels[sample_rows], metric="cosine"))
        if len(set(labels.tolist())) > 1
        else None
    )
    progress("labelling", 1, 1)
    listed = []
    for topic in range(k):
        words = found_terms[topic]
        listed.append(
            {
                "topic": topic,
                "label": " · ".join(term for term, _ in words[:3]),
                "terms": [{"term": term, "score": round(score, 6)} for term, score in words],
                "size": int(sizes[topic]),
                "share": float(sizes[topic]) / count,
                "representatives": [
                    {
                        "message_id": data.ids[row],
                        "sender": data.senders[row],
                        "sent_at": data.sent_at[row].as_py().isoformat(),
                        "text": data.texts[row][:TEXT_LIMIT],
                    }
                    for row in closest[topic]
                ],
            }
        )
    points: list[dict] = []
    if mapped is not None:
        progress("mapping", 0, 1)
        xy = mapped.result()
        points = [
            {
                "message_id": data.ids[row],
                "x": round(float(x), 3),
                "y": round(float(y), 3),
                "topic": int(labels[row]),
            }
            for row, (x, y) in zip(map_rows.tolist(), xy.tolist(), strict=True)
        ]
        progress("mapping", 1, 1)
    return {
        "k": k,
        "chosen_by": "fixed" if params.k is not None else "silhouette",
        "silhouette": silhouette,
        "scores": [{"k": candidate, "silhouette": scores[candidate]} for candidate in ks],
        "messages": data.messages,
        "clustered": count,
        "noise": data.noise,
        "topics": listed,
        "over_time": topics.over_time(buckets(data.sent_at, params.bucket, timezone), labels),
        "map": {"method": "openTSNE", "points": points},
        "parameters": params.model_dump(mode="json"),
        "seed": topics.SEED,
    }


def dask_client(scheduler_address: str | None, threads: int) -> Callable[[], Client]:
    """The Dask client topics run on, connected on the first job (an index that never computes
    topics starts no cluster). Joining a scheduler, ``topics`` travels by value: the workers need
    scikit-learn, openTSNE and ``chatlens.shared`` (its tracing; they preload it already), not
    the index's package."""
    lock, made = threading.Lock(), []

    def client() -> Client:
        with lock:
            if not made:
                if scheduler_address:
                    import cloudpickle

                    cloudpickle.register_pickle_by_value(topics)
                made.append(
                    dask_compute.connect(
                        scheduler_address,
                        name="chatlens-index-topics",
                        resources={},
                        threads=threads,
                    )
                )
            return made[0]

    return client


class TopicsJobs:
    """Runs TopicsRequested (the index's job queue) and answers TopicsLookup (its RPC queue)."""

    def __init__(
        self,
        manifests: ManifestReader,
        segments: SegmentCache,
        cache: TopicsCache,
        publish: Callable[[Message], None],
        client: Callable[[], Client],
        tombstones: Tombstones | None = None,
    ) -> None:
        self.manifests, self.segments, self.cache = manifests, segments, cache
        self.publish, self.client = publish, client
        self.tombstones = tombstones or Tombstones()

    def _find(
        self,
        org_id: str,
        collection_id: str,
        version: int | None,
        filters: SearchFilters,
        timezone: str,
        params: TopicsParams,
    ):
        collection = self.manifests.collection(org_id, collection_id)
        manifest = self.manifests.manifest(collection, version)
        key = key_of(manifest, filters, timezone, params)
        return collection, manifest, key, self.cache.read(org_id, collection, key)

    def lookup(self, request: TopicsLookup) -> TopicsFound:
        _, manifest, _, result = self._find(
            request.org_id,
            request.collection_id,
            request.version,
            request.filters,
            request.timezone,
            request.params,
        )
        return TopicsFound(version=manifest.version, result=result)

    def run(self, message: TopicsRequested, delivery: Delivery) -> None:
        try:
            self._run(message)
        except PermanentError as exc:  # the request cannot be done: the job fails, that is all
            self.publish(JobFailed(job_id=message.job_id, code=exc.code, reason=str(exc)))
        except Exception as exc:
            if delivery.last:  # retried enough: fail the job rather than strand it
                self.publish(
                    JobFailed(
                        job_id=message.job_id,
                        code="topics_failed",
                        reason=f"could not be computed ({exc}); try again",
                    )
                )
            raise

    def _run(self, message: TopicsRequested) -> None:
        def progress(stage: str, done: int, total: int) -> None:
            self.publish(
                TopicsProgressed(
                    job_id=message.job_id,
                    stage=stage,  # type: ignore[arg-type]
                    done=done,
                    total=total,
                )
            )

        collection, manifest, key, result = self._find(
            message.org_id,
            message.collection_id,
            message.version,
            message.filters,
            message.timezone,
            message.params,
        )
        if result is None:
            progress("reading", 0, 1)
            segments = [
                self.segments.get(collection.segment_path(entry.id)) for entry in manifest.segments
            ]
            data = gather(
                segments,
                self.tombstones.deleted(manifest),
                with_people(message.filters, manifest.people),
                self.tombstones,
                message.params.min_words,
            )
            progress("reading", 1, 1)
            result = compute(data, message.params, message.timezone, self.client(), progress)
            self.cache.write(message.org_id, collection, key, result)
            log.info(
                "topics computed",
                extra={
                    "collection_id": message.collection_id,
                    "version": manifest.version,
                    "k": result["k"],
                    "clustered": result["clustered"],
                },
            )
        self.publish(
            TopicsComputed(
                job_id=message.job_id,
                collection_id=message.collection_id,
                version=manifest.version,
                stats={
                    "k": result["k"],
                    "silhouette": result["silhouette"],
                    "clustered": result["clustered"],
                    "noise": result["noise"],
                    "messages": result["messages"],
                },
            )
        )
