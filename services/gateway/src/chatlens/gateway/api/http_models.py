"""Request and response bodies of the public API (validation and the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chatlens.shared import schemas
from chatlens.shared.text import Line, OptionalParagraph, Paragraph


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CollectionCreate(Strict):
    name: Line = Field(min_length=1, max_length=200)
    description: OptionalParagraph = Field(default="", max_length=2000)


class CollectionOut(BaseModel):
    id: str
    name: str
    description: str
    version: int
    created_at: datetime


class CollectionList(BaseModel):
    collections: list[CollectionOut]


class Progress(BaseModel):
    stage: str | None
    done: int
    total: int


class JobOut(BaseModel):
    id: str
    kind: Literal["ingest", "topics"] = Field(
        default="ingest", description="an upload's ingest, or computing topics"
    )
    collection_id: str
    filename: str
    status: Literal["queued", "running", "succeeded", "failed"]
    progress: Progress
    stats: dict[str, Any] | None
    error: dict[str, Any] | None
    version: int | None
    created_at: datetime
    updated_at: datetime


class JobList(BaseModel):
    jobs: list[JobOut]


class UploadForm(BaseModel):
    """multipart/form-data: one or more ``files`` (``.txt``, ``.json``, ``.csv``, ``.jsonl``, or
    ``.zip`` exports and zips of several), with an optional ``format`` and ``timezone``."""

    files: list[bytes]
    format: Literal["auto"] | schemas.ExportFormat = Field(
        default="auto", description="auto-detected unless forced"
    )
    timezone: str | None = Field(default=None, description="IANA zone for local timestamps")


class UploadAccepted(BaseModel):
    jobs: list[dict[str, str]]


Kind = Literal["text", "media", "system", "deleted", "service", "call", "poll"]
# A version: its number, or the name of a tag on it.
VersionRef = Annotated[int, Field(ge=0)] | Annotated[str, Field(min_length=1, max_length=63)]


class SearchFiltersIn(Strict):
    """Each field takes one value or a list of alternatives. ``since`` is inclusive, ``until``
    exclusive; a date means its midnight UTC, a time without an offset is UTC."""

    platform: Line | list[Line] | None = None
    chat: Line | list[Line] | None = None
    sender: Line | list[Line] | None = Field(default=None, description="display name or id")
    kind: Kind | list[Kind] | None = Field(default=None, description="message type")
    since: str | None = Field(default=None, max_length=64, examples=["2025-02-01"])
    until: str | None = Field(default=None, max_length=64, examples=["2025-03-01T12:00:00Z"])
    person: Line | list[Line] | None = Field(
        default=None,
        description=(
            "a person (senders merged into one: POST …/people): every sender name of the person "
            "in the version searched; a name that is no person matches that sender"
        ),
    )


class SearchRequest(Strict):
    query: Paragraph = Field(
        min_length=1,
        max_length=2000,
        description=(
            'free text with optional "quoted phrases", prefix* words, and the operators from:NAME, '
            "in:CHAT, before:DATE, after:DATE"
        ),
    )
    mode: Literal["semantic", "keyword", "hybrid"] = Field(
        default="hybrid", description="hybrid fuses semantic and keyword by reciprocal rank"
    )
    k: int = Field(default=10, ge=1, le=100)
    version: VersionRef | None = Field(
        default=None,
        description=("search this version (a number or a tag name) instead of the latest"),
    )
    versions: list[VersionRef] | None = Field(
        default=None,
        min_length=1,
        max_length=10,
        description=(
            "federated search: the same search in each of these versions (numbers or tags), "
            "answered per version (by_version) and merged (results, each saying found_in)"
        ),
    )
    context: int = Field(default=2, ge=0, le=20)
    filters: SearchFiltersIn = SearchFiltersIn()
    cursor: str | None = Field(
        default=None, max_length=512, description="next_cursor of the previous page, same request"
    )


class MultiSearchRequest(Strict):
    """One search over several collections of the caller's org, ranked as one corpus."""

    collections: list[str] = Field(
        min_length=1, max_length=20, description="collection ids, all of the caller's org"
    )
    query: Paragraph = Field(min_length=1, max_length=2000, description="as in a collection search")
    mode: Literal["semantic", "keyword", "hybrid"] = "hybrid"
    k: int = Field(default=10, ge=1, le=100)
    context: int = Field(default=2, ge=0, le=20)
    filters: SearchFiltersIn = SearchFiltersIn()
    cursor: str | None = Field(
        default=None, max_length=2048, description="next_cursor of the previous page, same request"
    )


class ContextMessage(BaseModel):
    message_id: str
    sender: str | None
    sent_at: datetime
    text: str


class SearchResult(BaseModel):
    message_id: str
    platform: str
    chat: str
    sender: str | None
    sent_at: datetime
    text: str
    score: float = Field(description="semantic: cosine; keyword: BM25; hybrid: fused RRF score")
    semantic_score: float | None
    keyword_score: float | None
    highlights: list[tuple[int, int]] = Field(
        description="[start, end) character offsets in text of the matched words"
    )
    highlighted: str = Field(description="text, HTML-escaped, with <mark> around matched words")
    context: list[ContextMessage]
    collection_id: str | None = Field(
        default=None, description="where it was found (multi-collection search)"
    )
    found_in: list[int] | None = Field(
        default=None, description="federated search: the versions whose results hold it"
    )


class VersionResults(BaseModel):
    version: int
    results: list[SearchResult]


class SearchResponse(BaseModel):
    results: list[SearchResult] = Field(
        description=("federated search: the versions' results merged by reciprocal rank fusion")
    )
    version: int | None = Field(
        description="the version searched (the latest of a federated "
        "search's; none for a multi-collection search)"
    )
    next_cursor: str | None
    interpreted: dict[str, Any] = Field(description="the query text and filters searched for")
    by_version: list[VersionResults] | None = Field(
        default=None, description="federated search: each version's own results"
    )
    collections: dict[str, int] | None = Field(
        default=None, description="multi-collection search: the version searched of each"
    )


class TagCreate(Strict):
    name: str = Field(
        min_length=1,
        max_length=63,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="not a number nor v<number>, which would read as a version",
    )
    version: int | None = Field(default=None, ge=0, description="the latest unless given")


class TagOut(schemas.TagInfo):
    """A tag, as the index keeps it (the wire model)."""


class TagList(BaseModel):
    tags: list[TagOut]


class VersionOut(schemas.VersionInfo):
    """A version, as the index lists it (the wire model)."""


class VersionList(BaseModel):
    versions: list[VersionOut]


class VersionRestoredOut(schemas.RestoreOutcome):
    """What a restore did, as the index reports it (the wire model's content)."""


class VersionCompareQuery(Strict):
    base: VersionRef = Field(description="a version number or a tag name")
    other: VersionRef = Field(description="a version number or a tag name")
    limit: int = Field(default=100, ge=0, le=1000)


class VersionComparison(schemas.Comparison):
    """Two versions compared, as the index compares them (the wire model's content)."""


class ErrorBody(BaseModel):
    code: str
    message: str


class Error(BaseModel):
    error: ErrorBody


def refusals(*statuses: int) -> dict[str, type[BaseModel]]:
    """``Response(HTTP_200=X, **refusals(404, 422))``: these statuses answer the error shape."""
    return {f"HTTP_{status}": Error for status in statuses}
