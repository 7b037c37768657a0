"""Typed messages on the bus: JSON only, each with an id, a type and a schema version.

Events are named in the past tense (``IngestRequested`` is the gateway's record that a user asked
for an ingest), RPC requests and replies come in pairs. ``MESSAGE_TYPES`` maps a wire type to its
class; the bus uses it to decode, and refuses what it does not know.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime, timezone
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


def _new_id() -> str:
    return uuid.uuid4().hex


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Message(BaseModel):
    """Base of every bus message. ``type`` doubles as the routing key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    id: str = Field(default_factory=_new_id)
    created_at: datetime = Field(default_factory=_now)


class Vectors(BaseModel):
    """A float32 matrix carried as base64 so a batch stays compact JSON."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rows: int
    dim: int
    data: str

    @classmethod
    def from_array(cls, array: np.ndarray) -> Vectors:
        array = np.ascontiguousarray(array, dtype=np.float32)
        if array.ndim != 2:
            raise ValueError("vectors must be a 2-d array")
        return cls(rows=array.shape[0], dim=array.shape[1],
                   data=base64.b64encode(array.tobytes()).decode("ascii"))

    def to_array(self) -> np.ndarray:
        raw = np.frombuffer(base64.b64decode(self.data), dtype=np.float32)
        return raw.reshape(self.rows, self.dim)


class ChatMessage(BaseModel):
    """One normalised chat message, as parsed from an export."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: str
    platform: str
    chat: str
    sender: str | None
    sent_at: datetime
    tz_assumption: str
    kind: Literal["text", "media", "system", "deleted"] = "text"
    text: str
    seq: int
    chunk_id: str | None = None
    source_file: str
    source_line: int
    edited: bool = False

    @property
    def embeddable(self) -> bool:
        return self.kind in ("text", "media") and bool(self.text.strip())


# --- ingestion events ---------------------------------------------------------------------


class IngestRequested(Message):
    type: ClassVar[str] = "ingest.requested"

    job_id: str
    org_id: str
    collection_id: str
    upload_key: str = Field(description="path of the file inside the shared upload store")
    filename: str
    sha256: str
    size: int
    format: str = "auto"
    timezone: str | None = None


class JobProgressed(Message):
    type: ClassVar[str] = "job.progressed"

    job_id: str
    stage: Literal["parsing", "embedding", "indexing"]
    done: int
    total: int


class JobFailed(Message):
    type: ClassVar[str] = "job.failed"

    job_id: str
    code: str
    reason: str


class ChunksEmbedded(Message):
    """One batch of an ingest: its messages and the vectors of those that are embeddable."""

    type: ClassVar[str] = "chunks.embedded"

    job_id: str
    org_id: str
    collection_id: str
    batch_no: int
    messages: list[ChatMessage]
    vector_ids: list[str]
    vectors: Vectors
    model: str


class EmbeddingFinished(Message):
    """The last word of the embedding worker on a job: how many batches the index must expect."""

    type: ClassVar[str] = "embedding.finished"

    job_id: str
    org_id: str
    collection_id: str
    batches: int
    stats: dict[str, Any]


class IndexUpdated(Message):
    type: ClassVar[str] = "index.updated"

    job_id: str
    collection_id: str
    version: int
    stats: dict[str, Any]


# --- RPC ------------------------------------------------------------------------------------


class RpcFailed(Message):
    """The reply to an RPC whose handler refused the request or failed."""

    type: ClassVar[str] = "rpc.failed"

    code: str
    message: str


class EmbedQuery(Message):
    type: ClassVar[str] = "embedding.query"

    texts: list[str] = Field(min_length=1, max_length=64)


class QueryEmbedded(Message):
    type: ClassVar[str] = "embedding.query.reply"

    model: str
    vectors: Vectors


class SearchRequested(Message):
    type: ClassVar[str] = "index.search"

    org_id: str
    collection_id: str
    vector: list[float]
    k: int = Field(default=10, ge=1, le=100)
    version: int | None = None
    context: int = Field(default=2, ge=0, le=20)


class SearchHit(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    message: ChatMessage
    score: float
    context: list[ChatMessage] = []


class SearchAnswered(Message):
    type: ClassVar[str] = "index.search.reply"

    version: int
    hits: list[SearchHit]


class GenerateRequested(Message):
    type: ClassVar[str] = "inference.generate"

    prompt: str = Field(min_length=1, max_length=32_000)
    system: str | None = None
    max_new_tokens: int = Field(default=64, ge=1, le=1024)
    model: str | None = None


class Generated(Message):
    type: ClassVar[str] = "inference.generate.reply"

    model: str
    text: str
    tokens: int


MESSAGE_TYPES: dict[str, type[Message]] = {
    cls.type: cls
    for cls in (
        IngestRequested, JobProgressed, JobFailed, ChunksEmbedded, EmbeddingFinished,
        IndexUpdated, RpcFailed, EmbedQuery, QueryEmbedded, SearchRequested, SearchAnswered,
        GenerateRequested, Generated,
    )
}


def encode(message: Message) -> bytes:
    return message.model_dump_json().encode("utf-8")


def decode(type_: str | None, body: bytes, schema_version: int | None = None) -> Message:
    """Decode a body of the given wire type; raises ``UnknownMessage`` or pydantic's error."""
    cls = MESSAGE_TYPES.get(type_ or "")
    if cls is None:
        raise UnknownMessage(f"unknown message type {type_!r}")
    if schema_version is not None and schema_version > cls.schema_version:
        raise UnknownMessage(f"{type_} schema version {schema_version} is newer than {cls.schema_version}")
    return cls.model_validate_json(body)


class UnknownMessage(ValueError):
    pass
