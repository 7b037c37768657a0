"""Fixtures of the index tests: an index on a temporary folder, job factories, RabbitMQ vhosts."""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from chatlens.index.ingest import Ingestor
from chatlens.index.search import Searcher
from chatlens.index.storage.layout import Layout
from chatlens.index.storage.segment import SegmentCache
from chatlens.shared.schemas import ChatMessage, ChunksEmbedded, EmbeddingFinished, Vectors
from chatlens.shared.testing import throwaway_vhost

# The analytics tests' generated history and plain-Python reference are modules beside this file.
sys.path.insert(0, str(Path(__file__).parent))

DIM = 16
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def make_message(
    message_id: str, seq: int, chat: str = "general", kind: str = "text", text: str | None = None
) -> ChatMessage:
    return ChatMessage(
        message_id=message_id,
        platform="slack",
        chat=chat,
        sender=f"user{seq % 3}",
        sent_at=T0 + timedelta(minutes=seq),
        tz_assumption="UTC",
        kind=kind,
        text=text if text is not None else f"message {message_id}",
        seq=seq,
        source_file="export.json",
        source_line=seq + 1,
    )


def random_unit_vectors(rng: np.random.Generator, rows: int, dim: int) -> np.ndarray:
    vectors = rng.standard_normal((rows, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


class JobBuilder:
    """Builds the messages the embedding worker would publish for one job."""

    def __init__(
        self,
        job_id: str,
        messages: list[ChatMessage],
        vectors: dict[str, np.ndarray],
        org_id: str = "org1",
        collection_id: str = "coll1",
        batch_size: int = 4,
    ) -> None:
        self.job_id, self.messages, self.vectors = job_id, messages, vectors
        self.org_id, self.collection_id, self.batch_size = org_id, collection_id, batch_size

    def batches(self) -> list[ChunksEmbedded]:
        out = []
        for number, start in enumerate(range(0, len(self.messages), self.batch_size)):
            chunk = self.messages[start : start + self.batch_size]
            ids = [m.message_id for m in chunk if m.message_id in self.vectors]
            dim = next(iter(self.vectors.values())).shape[0]
            matrix = np.array([self.vectors[i] for i in ids], dtype=np.float32).reshape(-1, dim)
            out.append(
                ChunksEmbedded(
                    job_id=self.job_id,
                    org_id=self.org_id,
                    collection_id=self.collection_id,
                    batch_no=number,
                    messages=chunk,
                    vector_ids=ids,
                    vectors=Vectors.from_array(matrix),
                    model="test-model",
                )
            )
        return out

    def finished(self) -> EmbeddingFinished:
        return EmbeddingFinished(
            job_id=self.job_id,
            org_id=self.org_id,
            collection_id=self.collection_id,
            batches=len(self.batches()),
            stats={"parsed": len(self.messages), "model": "test-model"},
        )

    def all_messages(self, shuffle_seed: int | None = None) -> list:
        out = [*self.batches(), self.finished()]
        if shuffle_seed is not None:
            random.Random(shuffle_seed).shuffle(out)
        return out


@pytest.fixture
def make_job():
    """make_job(job_id, ids, chat=..., seed=..., dim=...) -> JobBuilder with random unit vectors."""

    def factory(
        job_id: str,
        ids: list[str],
        *,
        chat: str = "general",
        seed: int = 0,
        dim: int = DIM,
        first_seq: int = 0,
        **kwargs,
    ) -> JobBuilder:
        rng = np.random.default_rng(seed)
        messages = [make_message(mid, first_seq + n, chat) for n, mid in enumerate(ids)]
        vectors = dict(zip(ids, random_unit_vectors(rng, len(ids), dim), strict=True))
        return JobBuilder(job_id, messages, vectors, **kwargs)

    return factory


@pytest.fixture
def make_text_job():
    """make_text_job(job_id, [text or dict of ChatMessage fields, ...]) -> JobBuilder.

    Message ids are ``<job_id>-<n>``; a dict may override any field (chat, sender, kind...).
    """

    def factory(
        job_id: str, rows: list, *, seed: int = 0, dim: int = DIM, first_seq: int = 0, **kwargs
    ) -> JobBuilder:
        rng = np.random.default_rng(seed)
        messages = []
        for n, row in enumerate(rows):
            fields = {"text": row} if isinstance(row, str) else dict(row)
            base = make_message(f"{job_id}-{n}", first_seq + n, text=fields.pop("text", None))
            messages.append(base.model_copy(update=fields))
        embedded = [m.message_id for m in messages if m.embeddable]
        vectors = dict(zip(embedded, random_unit_vectors(rng, len(embedded), dim), strict=True))
        return JobBuilder(job_id, messages, vectors, **kwargs)

    return factory


@pytest.fixture
def job_of():
    """job_of(job_id, messages, batch_size=500) -> JobBuilder, random vectors for the embeddable."""

    def factory(
        job_id: str, messages: list[ChatMessage], batch_size: int = 500, **kwargs
    ) -> JobBuilder:
        embedded = [m.message_id for m in messages if m.embeddable]
        vectors = random_unit_vectors(np.random.default_rng(1), len(embedded), DIM)
        return JobBuilder(
            job_id,
            messages,
            dict(zip(embedded, vectors, strict=True)),
            batch_size=batch_size,
            **kwargs,
        )

    return factory


class Published(list):
    """Records what the ingestor publishes, like the bus would deliver it."""

    def of(self, cls) -> list:
        return [m for m in self if isinstance(m, cls)]


@pytest.fixture
def layout(tmp_path) -> Layout:
    return Layout(tmp_path / "index")


@pytest.fixture
def published() -> Published:
    return Published()


@pytest.fixture
def segments() -> SegmentCache:
    return SegmentCache(64)


@pytest.fixture
def ingestor(layout, published, segments) -> Ingestor:
    return Ingestor(layout, published.append, segments, DIM)


@pytest.fixture
def searcher(layout) -> Searcher:
    # Its own cache: a reader in another process shares nothing with the writer.
    return Searcher(layout, SegmentCache(64))


def feed(ingestor: Ingestor, messages: list) -> None:
    for message in messages:
        if isinstance(message, ChunksEmbedded):
            ingestor.on_batch(message)
        else:
            ingestor.on_finished(message)


@pytest.fixture
def run_messages(ingestor):
    return lambda messages: feed(ingestor, messages)


# --- RabbitMQ ---------------------------------------------------------------------------------


@pytest.fixture
def amqp_url():
    """The URL of a throw-away vhost on the local RabbitMQ (skips, or fails in CI, without one)."""
    with throwaway_vhost("index") as url:
        yield url
