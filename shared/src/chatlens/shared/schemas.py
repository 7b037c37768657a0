"""Typed messages on the bus: JSON only, each with an id, a type and a schema version.

Events are named in the past tense (``IngestRequested`` is the gateway's record that a user asked
for an ingest), RPC requests and replies come in pairs. ``MESSAGE_TYPES`` maps a wire type to its
class; the bus uses it to decode, and refuses what it does not know.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


def _new_id() -> str:
    return uuid.uuid4().hex


def _now() -> datetime:
    return datetime.now(UTC)


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


class Attachment(BaseModel):
    """A file that came with a message, as metadata only (the bytes are not imported)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = None
    type: str | None = None  # the platform's word: "photo", "voice_message", "image", ...
    mime: str | None = None
    size: int | None = None


class Reaction(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    emoji: str
    count: int = 1
    users: list[str] = []


class ChatMessage(BaseModel):
    """One normalised chat message, as parsed from an export.

    Every field added after the first version has a default, so messages stored earlier (the
    index keeps this JSON as-is) still validate.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: str
    platform: str
    chat: str
    sender: str | None
    sent_at: datetime
    tz_assumption: str
    kind: Literal["text", "media", "system", "deleted", "service", "call", "poll"] = "text"
    text: str
    seq: int
    chunk_id: str | None = None
    source_file: str
    source_line: int = 0  # 0 where the source has no lines (JSON): see ``source_path``
    edited: bool = False
    # The platform's own id of the message, where it has one (``message_id`` is derived from it).
    native_id: str | None = None
    sender_id: str | None = None
    # The timestamp as written in the file, before the time-zone assumption was applied.
    original_timestamp: str | None = None
    reply_to: str | None = None  # the message_id of the message this one answers
    thread_id: str | None = None
    forwarded_from: str | None = None
    deleted: bool = False
    attachments: list[Attachment] = []
    reactions: list[Reaction] = []
    # Where in the upload it came from: a JSON path ("$.messages[12]") or an archive entry.
    source_path: str | None = None

    @property
    def embeddable(self) -> bool:
        # System and service events (joins, pins, calls) are stored but never embedded.
        return self.kind in ("text", "media", "poll") and bool(self.text.strip())


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


class SearchFilters(BaseModel):
    """Restrictions applied inside the search (exact): a message must pass every one given.

    Within one field the values are alternatives (any of them); names compare case-folded.
    ``since`` is inclusive and ``until`` exclusive.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: list[str] = Field(default=[], max_length=20)
    chat: list[str] = Field(default=[], max_length=50)
    sender: list[str] = Field(default=[], max_length=50, description="display name or sender id")
    kind: list[Literal["text", "media", "system", "deleted", "service", "call", "poll"]] = []
    since: datetime | None = None
    until: datetime | None = None

    @property
    def empty(self) -> bool:
        return not (self.platform or self.chat or self.sender or self.kind or self.since
                    or self.until)


class SearchRequested(Message):
    """A search. ``semantic`` needs ``vector``, ``keyword`` needs ``query``, ``hybrid`` both.

    The default mode is ``semantic`` so a request from before keyword search still means the same.
    """

    type: ClassVar[str] = "index.search"

    org_id: str
    collection_id: str
    vector: list[float] | None = None
    query: str = Field(default="", max_length=2000)
    mode: Literal["semantic", "keyword", "hybrid"] = "semantic"
    filters: SearchFilters = SearchFilters()
    k: int = Field(default=10, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1000)
    version: int | None = None
    context: int = Field(default=2, ge=0, le=20)


class SearchHit(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    message: ChatMessage
    score: float
    context: list[ChatMessage] = []
    # Character (start, end) offsets in ``message.text`` of the words the keyword query matched.
    highlights: list[tuple[int, int]] = []
    # Each mode's own score where the hit came from that mode (hybrid fuses ranks, not scores).
    semantic_score: float | None = None
    keyword_score: float | None = None


class SearchAnswered(Message):
    type: ClassVar[str] = "index.search.reply"

    version: int
    hits: list[SearchHit]
    # The offset of the next page, or None when this page was the last.
    next_offset: int | None = None


class VersionsListRequested(Message):
    type: ClassVar[str] = "index.versions"

    org_id: str
    collection_id: str


class VersionInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int
    message: str
    committed_at: datetime
    segments: int
    messages: int
    added: int
    removed: int


class VersionsListed(Message):
    type: ClassVar[str] = "index.versions.reply"

    versions: list[VersionInfo]


class VersionRestoreRequested(Message):
    """Make an old version's content the newest version (a new commit; history is kept)."""

    type: ClassVar[str] = "index.restore"

    org_id: str
    collection_id: str
    version: int = Field(ge=0)


class VersionRestored(Message):
    type: ClassVar[str] = "index.restore.reply"

    version: int = Field(description="the new version")
    restored: int
    added: int
    removed: int


class VersionsCompareRequested(Message):
    type: ClassVar[str] = "index.compare"

    org_id: str
    collection_id: str
    base: int = Field(ge=0)
    other: int = Field(ge=0)
    limit: int = Field(default=100, ge=0, le=1000)


class VersionsCompared(Message):
    """What ``other`` has that ``base`` has not (added), and the reverse (removed)."""

    type: ClassVar[str] = "index.compare.reply"

    base: int
    other: int
    added: int
    removed: int
    added_ids: list[str] = Field(default=[], description="the first ``limit`` added ids")
    removed_ids: list[str] = []


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


class ModelsListRequested(Message):
    """Which models the inference service's registry holds (for ``GET /v1/models``)."""

    type: ClassVar[str] = "inference.models"


class ModelInfo(BaseModel):
    name: str
    kind: Literal["llm", "embedding"]
    context_length: int


class ModelsListed(Message):
    type: ClassVar[str] = "inference.models.reply"

    models: list[ModelInfo]
    default: str | None = Field(default=None, description="the LLM used when a request names none")


MESSAGE_TYPES: dict[str, type[Message]] = {
    cls.type: cls
    for cls in (
        IngestRequested, JobProgressed, JobFailed, ChunksEmbedded, EmbeddingFinished,
        IndexUpdated, RpcFailed, EmbedQuery, QueryEmbedded, SearchRequested, SearchAnswered,
        GenerateRequested, Generated, ModelsListRequested, ModelsListed,
        VersionsListRequested, VersionsListed, VersionRestoreRequested, VersionRestored,
        VersionsCompareRequested, VersionsCompared,
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
        raise UnknownMessage(
            f"{type_} schema version {schema_version} is newer than {cls.schema_version}")
    return cls.model_validate_json(body)


class UnknownMessage(ValueError):
    pass
