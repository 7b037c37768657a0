"""The ingest handler publishes numbered batches, progress and a final word; or a JobFailed.

These run the real parser and the real model on Dask, with a recording publisher in place of
RabbitMQ (the real broker is in ``test_bus_integration.py``).
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from chatlens.embedding_worker.handlers import Handlers
from chatlens.shared import schemas
from chatlens.shared.bus import Delivery, PermanentError, TransientError

DELIVERY = Delivery(
    queue="embedding.ingest", redelivered=False, delivery_count=0, correlation_id=None
)
BOOK_CLUB = "WhatsApp Chat with Book Club.txt"


class RecordingPublisher:
    """Keeps what would have gone to the broker, in order."""

    def __init__(self) -> None:
        self.published: list[schemas.Message] = []

    def publish(self, message: schemas.Message) -> None:
        # Encode and decode, as the wire would: what cannot travel fails here too.
        self.published.append(schemas.decode(message.type, schemas.encode(message)))

    def of(self, kind: type) -> list:
        return [m for m in self.published if isinstance(m, kind)]


@pytest.fixture
def uploads(tmp_path, fixtures_dir):
    folder = tmp_path / "uploads"
    (folder / "org1").mkdir(parents=True)
    for name in (BOOK_CLUB, "not-a-chat.txt"):
        shutil.copy(fixtures_dir / name, folder / "org1" / name)
    return folder


@pytest.fixture
def telegram_uploads(uploads, fixtures_dir):
    shutil.copy(fixtures_dir / "telegram" / "result.json", uploads / "org1" / "result.json")
    (uploads / "org1" / "cut.json").write_bytes(
        (fixtures_dir / "telegram" / "result.json").read_bytes()[:-200]
    )
    return uploads


@pytest.fixture
def publisher():
    return RecordingPublisher()


@pytest.fixture
def handlers(publisher, embedder, uploads):
    return Handlers(publisher.publish, embedder, upload_dir=uploads, batch_size=5, pipeline_depth=2)


def request(key: str = f"org1/{BOOK_CLUB}", **overrides) -> schemas.IngestRequested:
    fields = dict(
        job_id="job-1",
        org_id="org1",
        collection_id="col1",
        upload_key=key,
        filename=key.rsplit("/", 1)[-1],
        sha256="0" * 64,
        size=1,
    )
    return schemas.IngestRequested(**{**fields, **overrides})


def test_an_export_is_published_as_numbered_batches_then_a_final_word(handlers, publisher):
    handlers.ingest(request(), DELIVERY)

    kinds = [type(m).__name__ for m in publisher.published]
    assert kinds == ["JobProgressed"] + ["ChunksEmbedded", "JobProgressed"] * 3 + [
        "EmbeddingFinished"
    ]
    batches = publisher.of(schemas.ChunksEmbedded)
    assert [b.batch_no for b in batches] == [0, 1, 2]
    # Batch k holds messages [5k, 5k+5) in file order, system ones included.
    assert [[m.seq for m in b.messages] for b in batches] == [
        [0, 1, 2, 3, 4],
        [5, 6, 7, 8, 9],
        [10, 11],
    ]
    assert all(m.chunk_id for b in batches for m in b.messages)
    finished = publisher.of(schemas.EmbeddingFinished)[0]
    assert (finished.job_id, finished.org_id, finished.collection_id, finished.batches) == (
        "job-1",
        "org1",
        "col1",
        3,
    )


def test_vectors_go_only_with_embeddable_messages(handlers, publisher):
    handlers.ingest(request(), DELIVERY)

    for batch in publisher.of(schemas.ChunksEmbedded):
        embeddable = [m.message_id for m in batch.messages if m.embeddable]
        vectors = batch.vectors.to_array()
        assert batch.vector_ids == embeddable
        assert vectors.shape == (len(embeddable), 384)
        assert batch.model == "all-MiniLM-L6-v2"
    first = publisher.of(schemas.ChunksEmbedded)[0]
    assert first.vector_ids == [first.messages[3].message_id, first.messages[4].message_id]


def test_progress_counts_messages_up_to_the_total(handlers, publisher):
    handlers.ingest(request(), DELIVERY)

    progress = [(p.stage, p.done, p.total) for p in publisher.of(schemas.JobProgressed)]
    assert progress == [
        ("parsing", 12, 12),
        ("embedding", 5, 12),
        ("embedding", 10, 12),
        ("embedding", 12, 12),
    ]


def test_the_final_word_carries_the_parse_diagnostics(handlers, publisher):
    handlers.ingest(request(), DELIVERY)

    stats = publisher.of(schemas.EmbeddingFinished)[0].stats
    assert {
        k: stats[k]
        for k in (
            "format",
            "messages",
            "embedded",
            "system_events",
            "media",
            "deleted",
            "edited",
            "skipped_lines",
            "skipped_examples",
            "chat",
            "tz_assumption",
        )
    } == {
        "format": "whatsapp",
        "messages": 12,
        "embedded": 6,
        "system_events": 5,
        "media": 1,
        "deleted": 1,
        "edited": 1,
        "skipped_lines": 0,
        "skipped_examples": [],
        "chat": "Book Club",
        "tz_assumption": "UTC (assumed)",
    }


def test_a_redelivered_request_publishes_the_same_batches(handlers, publisher):
    handlers.ingest(request(), DELIVERY)
    first = publisher.of(schemas.ChunksEmbedded) + publisher.of(schemas.EmbeddingFinished)
    publisher.published.clear()
    handlers.ingest(request(id="another-delivery"), DELIVERY)
    second = publisher.of(schemas.ChunksEmbedded) + publisher.of(schemas.EmbeddingFinished)

    assert [m.id for m in first] == [m.id for m in second]
    for a, b in zip(first[:-1], second[:-1], strict=True):
        assert (a.batch_no, a.messages, a.vector_ids) == (b.batch_no, b.messages, b.vector_ids)
        np.testing.assert_allclose(a.vectors.to_array(), b.vectors.to_array(), atol=1e-5)
    assert first[-1].stats == second[-1].stats


def test_a_file_that_is_not_a_chat_export_fails_the_job_without_raising(handlers, publisher):
    handlers.ingest(request("org1/not-a-chat.txt"), DELIVERY)

    [failed] = publisher.published
    assert isinstance(failed, schemas.JobFailed)
    assert (failed.job_id, failed.code) == ("job-1", "parse_failed")
    assert "WhatsApp" in failed.reason


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("org1/gone.txt", "not in the upload store"),
        ("../outside.txt", "outside the upload store"),
        ("org1/../../outside.txt", "outside the upload store"),
        ("/etc/passwd", "outside the upload store"),
        ("", "outside the upload store"),
        ("org1", "cannot be read"),
    ],
)
def test_a_missing_or_escaping_upload_fails_the_job(handlers, publisher, uploads, key, reason):
    (uploads.parent / "outside.txt").write_text("01/02/24, 10:00 - Ana: secret\n")

    handlers.ingest(request(key), DELIVERY)

    [failed] = publisher.published
    assert (type(failed), failed.code) == (schemas.JobFailed, "upload_missing")
    assert reason in failed.reason


def test_an_unsupported_format_or_zone_fails_the_job(handlers, publisher):
    handlers.ingest(request(format="telepathy"), DELIVERY)
    handlers.ingest(request(timezone="Nowhere/Atlantis"), DELIVERY)

    assert [(m.code, m.reason[:30]) for m in publisher.published] == [
        ("unsupported_format", "the format 'telepathy' is not "),
        ("parse_failed", "unknown time zone 'Nowhere/Atl"),
    ]


def test_a_forced_format_that_does_not_fit_the_file_fails_the_job(handlers, publisher):
    handlers.ingest(request(format="telegram"), DELIVERY)

    [failed] = publisher.published
    assert failed.code == "parse_failed"
    assert "JSON" in failed.reason


def test_dask_trouble_is_transient_not_a_failed_job(publisher, stalled_embedder, uploads):
    handlers = Handlers(publisher.publish, stalled_embedder, upload_dir=uploads, batch_size=5)

    with pytest.raises(TransientError):
        handlers.ingest(request(), DELIVERY)

    assert not publisher.of(schemas.JobFailed)
    assert not publisher.of(schemas.EmbeddingFinished)


def test_dask_trouble_on_the_last_delivery_fails_the_job_instead_of_stranding_it(
    publisher, stalled_embedder, uploads
):
    """Requeued once more, the message would go to the dead-letter queue and the job would wait
    for ever (found by the fault suite after a Dask scheduler restart)."""
    handlers = Handlers(publisher.publish, stalled_embedder, upload_dir=uploads, batch_size=5)
    last = Delivery(
        queue="embedding.ingest", redelivered=True, delivery_count=5, correlation_id=None, last=True
    )

    handlers.ingest(request(), last)

    [failed] = publisher.of(schemas.JobFailed)
    assert failed.job_id == "job-1" and failed.code == "gave_up"
    assert "6 attempts" in failed.reason and "upload it again" in failed.reason
    assert not publisher.of(schemas.EmbeddingFinished)


def test_a_foreign_message_on_the_ingest_queue_is_a_permanent_error(handlers):
    with pytest.raises(PermanentError):
        handlers.ingest(schemas.EmbedQuery(texts=["hi"]), DELIVERY)


def test_a_query_is_embedded_over_the_same_path(handlers):
    reply = handlers.embed_query(
        schemas.EmbedQuery(texts=["trip to Portugal", "invoice"]), DELIVERY
    )

    assert reply.model == "all-MiniLM-L6-v2"
    vectors = reply.vectors.to_array()
    assert vectors.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_query_asked_again_comes_from_the_cache_with_the_same_vector(
    publisher, embedder, uploads, monkeypatch
):
    handlers = Handlers(publisher.publish, embedder, upload_dir=uploads, query_cache_size=2)
    sent: list[list[str]] = []
    embed = embedder.embed
    monkeypatch.setattr(
        embedder, "embed", lambda texts, **kw: sent.append(texts) or embed(texts, **kw)
    )

    def ask(*texts: str) -> np.ndarray:
        return handlers.embed_query(
            schemas.EmbedQuery(texts=list(texts)), DELIVERY
        ).vectors.to_array()

    first = ask("trip to Portugal", "invoice")
    again = ask("invoice", "new question", "trip to Portugal", "new question")
    assert sent == [["trip to Portugal", "invoice"], ["new question"]]  # one model call each
    np.testing.assert_array_equal(again[[2, 0]], first)
    np.testing.assert_array_equal(again[1], again[3])
    ask("third", "fourth")  # the cache holds 2: the oldest are evicted and embedded again
    ask("trip to Portugal")
    assert sent[-1] == ["trip to Portugal"]


def test_a_telegram_export_goes_through_the_same_batches(handlers, publisher, telegram_uploads):
    handlers.ingest(request("org1/result.json", timezone="Europe/Lisbon"), DELIVERY)

    batches = publisher.of(schemas.ChunksEmbedded)
    assert [len(b.messages) for b in batches] == [5, 4]
    assert {m.platform for b in batches for m in b.messages} == {"telegram"}
    stats = publisher.of(schemas.EmbeddingFinished)[0].stats
    assert (stats["format"], stats["messages"], stats["system_events"], stats["embedded"]) == (
        "telegram",
        9,
        1,
        6,
    )
    progress = [(p.stage, p.done, p.total) for p in publisher.of(schemas.JobProgressed)]
    assert progress == [("parsing", 9, 9), ("embedding", 5, 9), ("embedding", 9, 9)]


def test_a_truncated_json_upload_fails_the_job_before_any_batch(
    handlers, publisher, telegram_uploads
):
    handlers.ingest(request("org1/cut.json"), DELIVERY)

    [failed] = publisher.published
    assert (type(failed), failed.code) == (schemas.JobFailed, "parse_failed")
    assert "truncated" in failed.reason and "$.messages[]" in failed.reason


def test_every_message_bound_to_the_workers_queues_has_a_handler(handlers):
    ingest, rpc = handlers.routes()
    assert ingest.unhandled() == [] and rpc.unhandled() == []


def test_an_export_that_yields_no_message_fails_the_job_and_reaches_no_index(
    handlers, publisher, uploads
):
    (uploads / "org1" / "junk.json").write_text(
        json.dumps(
            {
                "name": "Team",
                "type": "personal_chat",
                "id": 1,
                "messages": [
                    {"id": 1, "type": "message", "date": "not a date", "text": "hi"},
                    {"id": 2, "type": "message", "date": 17},
                    42,
                ],
            }
        )
    )

    handlers.ingest(request("org1/junk.json"), DELIVERY)

    failed = publisher.of(schemas.JobFailed)
    assert [f.code for f in failed] == ["no_messages"], publisher.published
    assert "junk.json: no message could be read (3 entries skipped" in failed[0].reason
    assert not publisher.of(schemas.ChunksEmbedded) and not publisher.of(schemas.EmbeddingFinished)


def test_a_bad_csv_is_explained_by_the_csv_parser_not_whatsapps(handlers, publisher, uploads):
    (uploads / "org1" / "notes.csv").write_text("colour;size\nred;3\nblue;4\n")

    handlers.ingest(request("org1/notes.csv"), DELIVERY)

    [failed] = publisher.of(schemas.JobFailed)
    assert failed.code == "parse_failed"
    assert "WhatsApp" not in failed.reason and "timestamp or text column" in failed.reason
