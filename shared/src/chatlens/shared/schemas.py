"""Typed messages on the bus: JSON only, each with an id, a type and a schema version.

Events are named in the past tense (``IngestRequested`` is the gateway's record that a user asked
for an ingest), RPC requests and replies come in pairs.

A message type is declared once, here, and registers itself: defining a subclass of
:class:`Message` with its own ``type`` adds it to ``MESSAGE_TYPES`` (the bus decodes with it and
refuses what it does not know). Beside the type live its routing facts: ``queue`` for a request or
an event (``chatlens.shared.topology`` builds every queue's bindings from these), ``answers`` for
a reply (the requests it answers), ``errors`` for an RPC request (the refusal codes its server may
answer with, which each caller maps in its one error table). ``shared/tests/test_contracts.py``
fails when a type is not routable.
"""

from __future__ import annotations

import base64
import builtins
import uuid
import zoneinfo
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chatlens.shared import queues


def _new_id() -> str:
    return uuid.uuid4().hex


def _now() -> datetime:
    return datetime.now(UTC)


class Message(BaseModel):
    """Base of every bus message. ``type`` doubles as the routing key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    # Where it goes: the queue a request or an event is bound to (``chatlens.shared.queues``);
    # a reply instead names the requests it answers. Bus control messages have neither.
    queue: ClassVar[str | None] = None
    answers: ClassVar[tuple[builtins.type[Message], ...]] = ()  # ``type`` is the wire name here
    # The RpcFailed codes the server of this request may refuse it with, besides the bus's own.
    errors: ClassVar[frozenset[str]] = frozenset()

    id: str = Field(default_factory=_new_id)
    created_at: datetime = Field(default_factory=_now)

    def __init_subclass__(cls, register: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)  # ``register`` is for the hook below

    @classmethod
    def __pydantic_init_subclass__(cls, register: bool = True, **kwargs: Any) -> None:
        """Registers the new type; ``class X(Message, register=False)`` declares one that the bus
        must not know (a test's impostor)."""
        super().__pydantic_init_subclass__(**kwargs)
        type_ = cls.__dict__.get("type")
        if type_ is None or not register:
            return  # an abstract base, a subclass that only adds behaviour, or an impostor
        known = MESSAGE_TYPES.get(type_)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise TypeError(
                f"message type {type_!r} is declared by {known.__name__} and {cls.__name__}"
            )
        MESSAGE_TYPES[type_] = cls


# Refusals any RPC server may answer with (the bus's own: undecodable, unhandled, crashed, and
# failed for a while, a TransientError: worth trying again).
BUS_ERRORS = frozenset({"invalid_message", "unsupported", "internal", "unavailable"})
# Refusals of every index RPC: no such collection or version, or sent to a replica that does not
# own the collection (a deployment fault: INDEX_REPLICAS differs between services).
_INDEX_ERRORS = frozenset({"not_found", "version_not_found", "wrong_replica"})

# Every message type by its wire name, filled by ``Message.__pydantic_init_subclass__``.
MESSAGE_TYPES: dict[str, type[Message]] = {}


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
        return cls(
            rows=array.shape[0],
            dim=array.shape[1],
            data=base64.b64encode(array.tobytes()).decode("ascii"),
        )

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
    # Another name of the sender the platform gives beside the one shown (Slack's real name
    # beside the display name); people suggestions match it too.
    sender_alias: str | None = None
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


# The export formats Chatlens reads: the one list (the gateway checks uploads against it, the
# embedding worker has a parser for each).
ExportFormat = Literal["whatsapp", "telegram", "slack", "discord", "chatgpt", "csv", "jsonl"]
EXPORT_FORMATS: tuple[str, ...] = get_args(ExportFormat)


# --- ingestion events ---------------------------------------------------------------------


class IngestRequested(Message):
    type: ClassVar[str] = "ingest.requested"
    queue = queues.INGEST

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
    queue = queues.GATEWAY_JOBS

    job_id: str
    stage: Literal["parsing", "embedding", "indexing"]
    done: int
    total: int


class JobFailed(Message):
    type: ClassVar[str] = "job.failed"
    queue = queues.GATEWAY_JOBS

    job_id: str
    code: str
    reason: str


class ChunksEmbedded(Message):
    """One batch of an ingest: its messages and the vectors of those that are embeddable."""

    type: ClassVar[str] = "chunks.embedded"
    queue = queues.INDEX_INGEST

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
    queue = queues.INDEX_INGEST

    job_id: str
    org_id: str
    collection_id: str
    batches: int
    stats: dict[str, Any]


class IndexUpdated(Message):
    type: ClassVar[str] = "index.updated"
    queue = queues.GATEWAY_JOBS

    job_id: str
    collection_id: str
    version: int
    stats: dict[str, Any]


class IndexRestored(Message):
    """A restore made a new version (announced like an ingest's ``IndexUpdated``, without a job)."""

    type: ClassVar[str] = "index.restored"
    queue = queues.GATEWAY_JOBS

    org_id: str
    collection_id: str
    version: int = Field(description="the new version")
    restored: int = Field(description="the version whose content it has")
    stats: dict[str, Any] = {}


# --- RPC ------------------------------------------------------------------------------------


class RpcFailed(Message):
    """The reply to an RPC whose handler refused the request or failed."""

    type: ClassVar[str] = "rpc.failed"

    code: str
    message: str


class StreamCancelled(Message):
    """Sent by the caller of a streaming RPC that stopped reading, to the server's channel
    (direct reply-to, with the stream's correlation id): the server stops the work."""

    type: ClassVar[str] = "rpc.stream.cancelled"


class EmbedQuery(Message):
    type: ClassVar[str] = "embedding.query"
    queue = queues.EMBEDDING_RPC

    texts: list[str] = Field(min_length=1, max_length=64)


class QueryEmbedded(Message):
    type: ClassVar[str] = "embedding.query.reply"
    answers = (EmbedQuery,)

    model: str
    vectors: Vectors


# A language as the index detects one (ISO 639-1; any case, compared folded).
LanguageCode = Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}$")]


class SearchFilters(BaseModel):
    """Restrictions applied inside the search (exact): a message must pass every one given.

    Within one field the values are alternatives (any of them); names compare case-folded.
    ``since`` is inclusive and ``until`` exclusive.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: list[str] = Field(default=[], max_length=20)
    chat: list[str] = Field(default=[], max_length=50)
    sender: list[str] = Field(default=[], max_length=50, description="display name or sender id")
    # People (the version's grouping of sender names, ``Manifest.people``): each selects every
    # sender name of the person; a name no person has stands for itself. Search and /ask only.
    person: list[str] = Field(default=[], max_length=20)
    kind: list[Literal["text", "media", "system", "deleted", "service", "call", "poll"]] = []
    # The language detected in a message's text at ingest (ISO 639-1, the index's
    # ``storage.languages``); a message without one (too short, unclear, or from a segment
    # written before detection) passes none.
    language: list[LanguageCode] = Field(
        default=[], max_length=20, description="ISO 639-1 codes of the texts' detected language"
    )
    since: datetime | None = None
    until: datetime | None = None
    # A slot of the week (the hour x weekday heatmap's cell), read in ``timezone``.
    hours: list[Annotated[int, Field(ge=0, le=23)]] = Field(default=[], max_length=24)
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default=[], max_length=7, description="Monday 0 to Sunday 6"
    )
    timezone: str = Field(
        default="UTC", min_length=1, max_length=64, description="IANA zone of hours and weekdays"
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}") from None
        return name

    @property
    def empty(self) -> bool:
        return not (
            self.platform
            or self.chat
            or self.sender
            or self.kind
            or self.language
            or self.since
            or self.until
            or self.hours
            or self.weekdays
        )


class SearchRequested(Message):
    """A search. ``semantic`` needs ``vector``, ``keyword`` needs ``query``, ``hybrid`` both.

    The default mode is ``semantic`` so a request from before keyword search still means the same.
    """

    type: ClassVar[str] = "index.search"
    queue = queues.INDEX_RPC
    errors = _INDEX_ERRORS | {"invalid_vector", "empty_query"}

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
    # Further collections of the same org searched together with ``collection_id``, as one
    # corpus (one fusion, one ranking); ``collection_versions`` pins their versions (pages).
    collection_ids: list[str] = Field(default=[], max_length=20)
    collection_versions: dict[str, int] = Field(default={}, max_length=21)
    # ``collection_id`` searched at each of these versions (``version`` and ``offset`` unused):
    # the reply's ``by_version`` holds each version's own hits, and ``hits`` their union fused
    # by reciprocal rank, each saying ``found_in``.
    versions: list[int] = Field(default=[], max_length=10)


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
    collection_id: str | None = Field(default=None, description="where the hit was found")
    found_in: list[int] | None = Field(
        default=None, description="across versions: the versions that found it"
    )


class VersionHits(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int
    hits: list[SearchHit]


class SearchAnswered(Message):
    type: ClassVar[str] = "index.search.reply"
    answers = (SearchRequested,)

    version: int
    hits: list[SearchHit]
    # The version searched of each collection (a multi-collection search names several).
    versions: dict[str, int] = {}
    # The offset of the next page, or None when this page was the last.
    next_offset: int | None = None
    # Across versions (``SearchRequested.versions``): each version's own hits, in request order.
    by_version: list[VersionHits] = []


class VersionsListRequested(Message):
    type: ClassVar[str] = "index.versions"
    queue = queues.INDEX_RPC
    errors = _INDEX_ERRORS

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
    answers = (VersionsListRequested,)

    versions: list[VersionInfo]


class VersionRestoreRequested(Message):
    """Make an old version's content the newest version (a new commit; history is kept)."""

    type: ClassVar[str] = "index.restore"
    queue = queues.INDEX_RPC
    errors = _INDEX_ERRORS

    org_id: str
    collection_id: str
    version: int = Field(ge=0)


class RestoreOutcome(BaseModel):
    """What a restore did (the reply's content, and the gateway's answer)."""

    version: int = Field(description="the new version")
    restored: int
    added: int
    removed: int


class VersionRestored(Message, RestoreOutcome):
    type: ClassVar[str] = "index.restore.reply"
    answers = (VersionRestoreRequested,)


class VersionsCompareRequested(Message):
    type: ClassVar[str] = "index.compare"
    queue = queues.INDEX_RPC
    errors = _INDEX_ERRORS

    org_id: str
    collection_id: str
    base: int = Field(ge=0)
    other: int = Field(ge=0)
    limit: int = Field(default=100, ge=0, le=1000)


class Comparison(BaseModel):
    """What ``other`` has that ``base`` has not (added), and the reverse (removed)."""

    base: int
    other: int
    added: int
    removed: int
    added_ids: list[str] = Field(default=[], description="the first ``limit`` added ids")
    removed_ids: list[str] = []


class VersionsCompared(Message, Comparison):
    type: ClassVar[str] = "index.compare.reply"
    answers = (VersionsCompareRequested,)


class TagInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    version: int


class TagCreateRequested(Message):
    """Name a version (the latest when ``version`` is None); a Git tag beside the ``v<N>`` ones."""

    type: ClassVar[str] = "index.tag.create"
    queue = queues.INDEX_RPC
    errors = _INDEX_ERRORS | {"tag_exists", "too_many_tags", "invalid_tag"}

    org_id: str
    collection_id: str
    name: str = Field(max_length=200)
    version: int | None = Field(default=None, ge=0)


class TagsListRequested(Message):
    type: ClassVar[str] = "index.tags"
    queue = queues.INDEX_RPC
    errors = _INDEX_ERRORS

    org_id: str
    collection_id: str


class TagDeleteRequested(Message):
    type: ClassVar[str] = "index.tag.delete"
    queue = queues.INDEX_RPC
    errors = _INDEX_ERRORS | {"tag_not_found", "invalid_tag"}

    org_id: str
    collection_id: str
    name: str = Field(max_length=200)


class TagsListed(Message):
    """The reply to all three tag requests: the collection's tags after the request."""

    type: ClassVar[str] = "index.tags.reply"
    answers = (TagsListRequested, TagCreateRequested, TagDeleteRequested)

    tags: list[TagInfo]


class ChatTurn(BaseModel):
    """One turn of a conversation; the model reads turns through its own chat template."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=32_000)


# --- deletion and clean-up (issue 5) ---------------------------------------------------------


class MessagesDeleteRequested(Message):
    """Delete messages from a collection's live version: one chat, one upload (the messages its
    job added), or every message of one sender (display name or sender id). A new version;
    with ``purge`` the messages are also removed from every older version (history rewritten)."""

    type: ClassVar[str] = "index.delete"
    queue = queues.INDEX_RPC
    errors = _INDEX_ERRORS | {"chat_not_found", "sender_not_found", "upload_not_found"}

    org_id: str
    collection_id: str
    chat: str | None = Field(default=None, min_length=1, max_length=500)
    sender: str | None = Field(default=None, min_length=1, max_length=500)
    job_id: str | None = Field(default=None, min_length=1, max_length=128)
    purge: bool = False

    @model_validator(mode="after")
    def _one_selector(self) -> MessagesDeleteRequested:
        if sum(value is not None for value in (self.chat, self.sender, self.job_id)) != 1:
            raise ValueError("name exactly one of chat, sender, job_id")
        return self


class MessagesDeleted(Message):
    type: ClassVar[str] = "index.delete.reply"
    answers = (MessagesDeleteRequested,)

    version: int = Field(description="the live version after the deletion")
    removed: int = Field(description="messages removed from the live version by this request")
    purged: int = Field(default=0, description="messages removed from the history (purge)")
    rewritten: int = Field(default=0, description="versions whose content a purge rewrote")


class PeopleMergeRequested(Message):
    """Count sender names of a collection as one person (``merge``: ``senders`` join ``person``,
    leaving any person they were in), or take names out of a person again (``split``; every name
    when ``senders`` is empty). A new version: reports count by person from it on, older versions
    keep their grouping, restoring one brings its grouping back."""

    type: ClassVar[str] = "index.people"
    queue = queues.INDEX_RPC
    errors = _INDEX_ERRORS | {"sender_not_found", "person_not_found"}

    org_id: str
    collection_id: str
    action: Literal["merge", "split"]
    person: str = Field(min_length=1, max_length=200)
    senders: list[str] = Field(default=[], max_length=100)


class PeopleMerged(Message):
    type: ClassVar[str] = "index.people.reply"
    answers = (PeopleMergeRequested,)

    version: int = Field(description="the live version after the change")
    changed: bool = Field(description="false when the grouping was already so (no new version)")
    people: dict[str, list[str]] = Field(description="every person of the version: its names")


class CollectionDeleted(Message):
    """The gateway forgot a collection: the index removes its shards and staged batches."""

    type: ClassVar[str] = "collection.deleted"
    queue = queues.INDEX_INGEST

    org_id: str
    collection_id: str


class JobAbandoned(Message):
    """A job failed for good (the gateway's record): the index drops the batches it staged."""

    type: ClassVar[str] = "job.abandoned"
    queue = queues.INDEX_INGEST

    job_id: str
    org_id: str
    collection_id: str


# Refusals of a request sent to an org's OpenAI-compatible endpoint (``ProviderEndpoint``): the
# provider's own failure, told apart so the client knows whether its key, its model name or the
# provider is at fault (the gateway answers each as a 502 with this code).
PROVIDER_ERRORS = frozenset(
    {
        "provider_unreachable",
        "provider_auth_failed",
        "provider_model_not_found",
        "provider_bad_response",
        "provider_rate_limited",
        "provider_failed",
        "provider_secret_not_found",
        "endpoint_not_allowed",
    }
)


class ProviderEndpoint(BaseModel):
    """An org's OpenAI-compatible endpoint as the inference service calls it: where, which of the
    provider's models, and the *name* of the org's provider secret holding the key. The key
    itself never travels on the bus: the inference service reads it from auth."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="the org's name for it")
    org_id: str
    base_url: str = Field(min_length=1, max_length=2000)
    model: str = Field(min_length=1, max_length=200, description="the provider's model name")
    secret: str | None = Field(
        default=None,
        description=(
            "the name of the org's provider secret that holds the key (None: a server without keys)"
        ),
    )
    context_length: int = Field(default=8192, gt=0)


class GenerateRequested(Message):
    """Generate from a ``prompt`` (with an optional ``system`` text) or from ``messages``.

    As a streaming RPC the reply is :class:`GenerationStarted`, :class:`TokensGenerated` chunks
    as tokens are produced, then :class:`Generated`; as a plain RPC only :class:`Generated`.
    """

    type: ClassVar[str] = "inference.generate"
    queue = queues.INFERENCE_RPC
    errors = frozenset({"unknown_model", "prompt_too_long", "wrong_model_kind"}) | PROVIDER_ERRORS

    prompt: str | None = Field(default=None, min_length=1, max_length=32_000)
    system: str | None = None
    messages: list[ChatTurn] | None = Field(default=None, min_length=1, max_length=100)
    max_new_tokens: int = Field(default=64, ge=1, le=1024)
    model: str | None = None
    temperature: float = Field(default=0.0, ge=0, le=2, description="0: greedy decoding")
    top_p: float = Field(default=1.0, gt=0, le=1)
    seed: int | None = Field(default=None, description="makes sampling repeatable")
    # Set: generated by this org endpoint (``model`` is then its name), not by the registry's.
    provider: ProviderEndpoint | None = None

    @model_validator(mode="after")
    def _one_input(self) -> GenerateRequested:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("give either a prompt or messages")
        if self.messages is not None and sum(len(t.content) for t in self.messages) > 64_000:
            raise ValueError("the messages exceed 64,000 characters")
        return self


class GenerationStarted(Message):
    """First reply of a streamed generation: the request passed its checks and is queued."""

    type: ClassVar[str] = "inference.generate.started"
    answers = (GenerateRequested,)

    model: str
    prompt_tokens: int


class TokensGenerated(Message):
    """A piece of a streamed answer: the text of the tokens generated since the last piece."""

    type: ClassVar[str] = "inference.generate.tokens"
    answers = (GenerateRequested,)

    text: str
    tokens: int


class Generated(Message):
    type: ClassVar[str] = "inference.generate.reply"
    answers = (GenerateRequested,)

    model: str
    text: str
    tokens: int
    prompt_tokens: int = 0
    finish_reason: Literal["stop", "length"] = "stop"


class ModelsListRequested(Message):
    """Which models the inference service's registry holds (for ``GET /v1/models``)."""

    type: ClassVar[str] = "inference.models"
    queue = queues.INFERENCE_RPC


class ModelInfo(BaseModel):
    name: str
    kind: Literal["llm", "embedding"]
    context_length: int


class ModelsListed(Message):
    type: ClassVar[str] = "inference.models.reply"
    answers = (ModelsListRequested,)

    models: list[ModelInfo]
    default: str | None = Field(default=None, description="the LLM used when a request names none")


class ProviderTestRequested(Message):
    """Try an org endpoint with one cheap call (the provider's model list)."""

    type: ClassVar[str] = "inference.provider.test"
    queue = queues.INFERENCE_RPC
    errors = PROVIDER_ERRORS

    provider: ProviderEndpoint


class ProviderTested(Message):
    type: ClassVar[str] = "inference.provider.test.reply"
    answers = (ProviderTestRequested,)

    models: list[str] = Field(description="the model names the provider lists")
    has_model: bool = Field(description="whether the endpoint's model is among them")


# --- browsing, summaries and model administration (issue 6) ---------------------------------


class MessagesListRequested(Message):
    """The messages of a chat or time window, in time order (what a summary reads).

    Only ``limit`` messages come back; ``total`` in the reply says how many passed the filters, so
    the caller can refuse a window that is too large instead of summarising part of it.
    """

    type: ClassVar[str] = "index.messages"
    queue = queues.INDEX_RPC
    errors = _INDEX_ERRORS

    org_id: str
    collection_id: str
    filters: SearchFilters = SearchFilters()
    version: int | None = Field(default=None, ge=0)
    limit: int = Field(default=1000, ge=1, le=10_000)


class MessagesListed(Message):
    type: ClassVar[str] = "index.messages.reply"
    answers = (MessagesListRequested,)

    version: int
    total: int = Field(description="messages passing the filters; more than listed when cut")
    messages: list[ChatMessage]


class FacetsRequested(Message):
    """The chats and senders of a collection (how a question's own filters are recognised)."""

    type: ClassVar[str] = "index.facets"
    queue = queues.INDEX_RPC
    errors = _INDEX_ERRORS

    org_id: str
    collection_id: str
    version: int | None = Field(default=None, ge=0)


class FacetCount(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    value: str
    count: int


class FacetsListed(Message):
    type: ClassVar[str] = "index.facets.reply"
    answers = (FacetsRequested,)

    version: int
    chats: list[FacetCount]
    senders: list[FacetCount]


class SummarizeRequested(Message):
    """Summarise these messages (in this order); the reply cites them by number, 1-based."""

    type: ClassVar[str] = "inference.summarize"
    queue = queues.INFERENCE_RPC
    errors = frozenset({"unknown_model", "prompt_too_long", "summary_too_long"}) | PROVIDER_ERRORS

    messages: list[ChatMessage] = Field(min_length=1, max_length=5000)
    model: str | None = None
    provider: ProviderEndpoint | None = None
    max_new_tokens: int = Field(default=160, ge=16, le=1024)
    # Tokens of messages per map step; None: the inference service's own setting.
    chunk_tokens: int | None = Field(default=None, ge=128, le=100_000)


class Summarized(Message):
    type: ClassVar[str] = "inference.summarize.reply"
    answers = (SummarizeRequested,)

    model: str
    summary: str
    cited: list[int] = Field(description="1-based numbers of the request's messages cited")
    chunks: int = Field(description="map steps (1: the messages fitted one prompt)")
    tokens: int = Field(description="tokens generated, all steps together")
    prompt_tokens: int = Field(default=0, description="tokens read, all steps together")


class MessageRequested(Message):
    """One message and its neighbours in its chat: what opening a citation or a hit shows."""

    type: ClassVar[str] = "index.message"
    queue = queues.INDEX_RPC
    errors = _INDEX_ERRORS | {"message_not_found"}

    org_id: str
    collection_id: str
    message_id: str = Field(min_length=1, max_length=200)
    context: int = Field(default=5, ge=0, le=50, description="messages before and after")
    version: int | None = Field(default=None, ge=0)


class MessageFound(Message):
    type: ClassVar[str] = "index.message.reply"
    answers = (MessageRequested,)

    version: int
    message: ChatMessage
    before: list[ChatMessage] = Field(description="earlier messages of its chat, oldest first")
    after: list[ChatMessage] = Field(description="later messages of its chat, oldest first")


class ModelsStatusRequested(Message):
    """Each registry model's metadata and where it is loaded (the admin view)."""

    type: ClassVar[str] = "inference.models.status"
    queue = queues.INFERENCE_RPC


class ModelChangeRequested(Message):
    """Swap models at run time: re-read the registry, set the default, load or unload."""

    type: ClassVar[str] = "inference.models.change"
    queue = queues.INFERENCE_RPC
    errors = frozenset(
        {
            "unknown_model",
            "wrong_model_kind",
            "model_in_use",
            "invalid_registry",
            "model_load_failed",
        }
    )

    action: Literal["reload_registry", "set_default", "load", "unload"]
    model: str | None = None


class WorkerModelState(BaseModel):
    worker: str
    loaded: bool
    loads: int = Field(description="times this worker loaded the model")
    error: str | None = Field(default=None, description="the last load error seen there")


class ModelState(BaseModel):
    name: str
    kind: Literal["llm", "embedding"]
    source: str
    gguf_file: str | None
    context_length: int
    dtype: str
    device: str
    default: bool
    workers: list[WorkerModelState] = Field(description="llm workers only; [] for embedding")


class Models(BaseModel):
    """The registry's models and where they are loaded (the reply's content, and the admin's
    answer)."""

    default: str
    registry: str = Field(description="the registry file read (or the packaged models.toml)")
    models: list[ModelState]


class ModelsStatus(Message, Models):
    type: ClassVar[str] = "inference.models.status.reply"
    answers = (ModelsStatusRequested, ModelChangeRequested)


# --- broadcasts (issue 15.4) --------------------------------------------------------------------


class AccessRevoked(Message):
    """Auth's news that access ended before the tokens' ``exp``, sent to every gateway the moment
    it is committed: sessions (refresh families) ended, users whose earlier tokens are void (a
    password, role or MFA change, a removal), API keys revoked. Auth's signed revocation feed
    stays the authority that gateways poll; this only lets them refuse sooner."""

    type: ClassVar[str] = "auth.access.revoked"
    queue = queues.BROADCAST

    sessions: dict[str, int] = Field(default={}, description="sid -> revoked at (epoch s)")
    users: dict[str, int] = Field(
        default={},
        description="user id -> tokens issued before this "
        "epoch second are void; their API keys are checked again",
    )
    api_keys: list[str] = Field(default=[], description="ids of revoked API keys")


class ProviderSecretsChanged(Message):
    """Auth's news that an org's provider secrets were replaced or deleted, sent to every
    subscriber once committed: each inference replica forgets the keys it keeps (60 s) under
    these names, so the next call to the org's endpoint reads the new key. The value never
    travels: only the names."""

    type: ClassVar[str] = "auth.provider_secrets.changed"
    queue = queues.BROADCAST

    org_id: str
    names: list[str] = Field(description="the names of the secrets that changed")


def encode(message: Message) -> bytes:
    return message.model_dump_json().encode("utf-8")


def decode(type_: str | None, body: bytes, schema_version: int | None = None) -> Message:
    """Decode a body of the given wire type; raises ``UnknownMessage`` or pydantic's error."""
    cls = MESSAGE_TYPES.get(type_ or "")
    if cls is None:
        raise UnknownMessage(f"unknown message type {type_!r}")
    if schema_version is not None and schema_version > cls.schema_version:
        raise UnknownMessage(
            f"{type_} schema version {schema_version} is newer than {cls.schema_version}"
        )
    return cls.model_validate_json(body)


class UnknownMessage(ValueError):
    pass


# --- analytics (issue 12) -----------------------------------------------------------------------


class AnalyticsRequested(Message):
    """One analytics report over a version's live messages that pass ``filters``.

    Computed by the index replica owning the collection (DuckDB over the segments' columns).
    ``timezone`` is an IANA name: days, hours and weekdays are that zone's.
    """

    type: ClassVar[str] = "index.analytics"
    queue = queues.INDEX_RPC
    errors = _INDEX_ERRORS | {"invalid_timezone", "invalid_language"}

    org_id: str
    collection_id: str
    report: Literal[
        "overview",
        "activity",
        "people",
        "conversations",
        "interaction",
        "language",
        "calendar",
        "identities",
    ]
    filters: SearchFilters = SearchFilters()
    version: int | None = Field(default=None, ge=0)
    timezone: str = Field(default="UTC", min_length=1, max_length=64)
    bucket: Literal["day", "week", "month"] = "day"
    stack: Literal["person", "chat"] | None = None
    gap_minutes: int = Field(
        default=30, ge=1, le=10_080, description="silence that splits a chat into conversations"
    )
    top: int = Field(default=10, ge=1, le=50, description="stacked keys, starters, enders")
    limit: int = Field(default=100, ge=1, le=1000, description="people listed")
    year: int | None = Field(
        default=None,
        ge=1970,
        le=2100,
        description="calendar: the year shown (the latest one when None)",
    )
    languages: list[str] = Field(
        default=[], max_length=40, description="language: stop-word languages (ISO 639-1)"
    )


class AnalyticsAnswered(Message):
    type: ClassVar[str] = "index.analytics.reply"
    answers = (AnalyticsRequested,)

    version: int
    report: str
    timezone: str
    result: dict[str, Any]


# --- topics (issue 12) -------------------------------------------------------------------------
# The gateway records a job and sends ``TopicsRequested`` to the owning index replica's job queue
# (``queues.INDEX_JOBS``); the index answers with ``TopicsProgressed`` events, then
# ``TopicsComputed`` or ``JobFailed``, and caches the result, which ``TopicsLookup`` (an index
# RPC) reads.

# k is looked for within [k_min, k_max], both within these; a map shows at most this many points.
TOPICS_K_LIMITS = (2, 50)
TOPICS_MAP_LIMIT = 20_000


class TopicsParams(BaseModel):
    """What a topics run is asked for; with the version and filters, its cache key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    k: int | None = Field(
        default=None,
        ge=TOPICS_K_LIMITS[0],
        le=TOPICS_K_LIMITS[1],
        description="the number of topics; chosen by silhouette when absent",
    )
    k_min: int = Field(default=4, ge=TOPICS_K_LIMITS[0], le=TOPICS_K_LIMITS[1])
    k_max: int = Field(default=20, ge=TOPICS_K_LIMITS[0], le=TOPICS_K_LIMITS[1])
    min_words: int = Field(
        default=3, ge=1, le=50, description="messages with fewer words are noise, in no topic"
    )
    map_points: int = Field(
        default=5000,
        ge=0,
        le=TOPICS_MAP_LIMIT,
        description="points of the 2-D map (a sample); 0: no map",
    )
    bucket: Literal["week", "month"] = "month"

    @model_validator(mode="after")
    def _k_in_range(self) -> TopicsParams:
        if self.k_min > self.k_max:
            raise ValueError(f"k_min {self.k_min} is above k_max {self.k_max}")
        if self.k is not None and not self.k_min <= self.k <= self.k_max:
            raise ValueError(f"k {self.k} is outside {self.k_min}..{self.k_max}")
        return self


class TopicsRequested(Message):
    """Compute the topics of a version's messages that pass ``filters``, for the gateway's job
    ``job_id``."""

    type: ClassVar[str] = "index.topics.requested"
    queue = queues.INDEX_JOBS

    job_id: str
    org_id: str
    collection_id: str
    version: int = Field(ge=0)
    filters: SearchFilters = SearchFilters()
    timezone: str = Field(default="UTC", min_length=1, max_length=64)
    params: TopicsParams = TopicsParams()


# A topics job's stages, in order.
TOPICS_STAGES = ("reading", "clustering", "labelling", "mapping")


class TopicsProgressed(Message):
    type: ClassVar[str] = "index.topics.progressed"
    queue = queues.GATEWAY_JOBS

    job_id: str
    stage: Literal["reading", "clustering", "labelling", "mapping"]
    done: int
    total: int


class TopicsComputed(Message):
    type: ClassVar[str] = "index.topics.computed"
    queue = queues.GATEWAY_JOBS

    job_id: str
    collection_id: str
    version: int
    stats: dict[str, Any]


class TopicsLookup(Message):
    """The cached topics of (version, filters, time zone, parameters), if a job computed them."""

    type: ClassVar[str] = "index.topics"
    queue = queues.INDEX_RPC
    errors = _INDEX_ERRORS

    org_id: str
    collection_id: str
    version: int | None = Field(default=None, ge=0)
    filters: SearchFilters = SearchFilters()
    timezone: str = Field(default="UTC", min_length=1, max_length=64)
    params: TopicsParams = TopicsParams()


class TopicsFound(Message):
    type: ClassVar[str] = "index.topics.reply"
    answers = (TopicsLookup,)

    version: int
    result: dict[str, Any] | None = Field(description="None: not computed yet")
