"""Request and response bodies of the public API (validation and the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CollectionCreate(Strict):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)


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
    format: Literal["auto", "whatsapp", "telegram", "slack", "discord", "chatgpt", "csv",
                    "jsonl"] = Field(default="auto", description="auto-detected unless forced")
    timezone: str | None = Field(default=None, description="IANA zone for local timestamps")


class UploadAccepted(BaseModel):
    jobs: list[dict[str, str]]


Kind = Literal["text", "media", "system", "deleted", "service", "call", "poll"]


class SearchFiltersIn(Strict):
    """Each field takes one value or a list of alternatives. ``since`` is inclusive, ``until``
    exclusive; a date means its midnight UTC, a time without an offset is UTC."""

    platform: str | list[str] | None = None
    chat: str | list[str] | None = None
    sender: str | list[str] | None = Field(default=None, description="display name or id")
    kind: Kind | list[Kind] | None = Field(default=None, description="message type")
    since: str | None = Field(default=None, max_length=64, examples=["2025-02-01"])
    until: str | None = Field(default=None, max_length=64, examples=["2025-03-01T12:00:00Z"])


class SearchRequest(Strict):
    query: str = Field(min_length=1, max_length=2000, description=(
        'free text with optional "quoted phrases", prefix* words, and the operators from:NAME, '
        "in:CHAT, before:DATE, after:DATE"))
    mode: Literal["semantic", "keyword", "hybrid"] = Field(
        default="hybrid", description="hybrid fuses semantic and keyword by reciprocal rank")
    k: int = Field(default=10, ge=1, le=100)
    version: int | None = Field(default=None, ge=0)
    context: int = Field(default=2, ge=0, le=20)
    filters: SearchFiltersIn = SearchFiltersIn()
    cursor: str | None = Field(default=None, max_length=512,
                               description="next_cursor of the previous page, same request")


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
        description="[start, end) character offsets in text of the matched words")
    highlighted: str = Field(description="text, HTML-escaped, with <mark> around matched words")
    context: list[ContextMessage]


class SearchResponse(BaseModel):
    results: list[SearchResult]
    version: int
    next_cursor: str | None
    interpreted: dict[str, Any] = Field(description="the query text and filters searched for")


class VersionOut(BaseModel):
    version: int
    message: str
    committed_at: datetime
    segments: int
    messages: int
    added: int
    removed: int


class VersionList(BaseModel):
    versions: list[VersionOut]


class VersionRestoredOut(BaseModel):
    version: int
    restored: int
    added: int
    removed: int


class VersionCompareQuery(Strict):
    base: int = Field(ge=0)
    other: int = Field(ge=0)
    limit: int = Field(default=100, ge=0, le=1000)


class VersionComparison(BaseModel):
    base: int
    other: int
    added: int
    removed: int
    added_ids: list[str]
    removed_ids: list[str]


class ErrorBody(BaseModel):
    code: str
    message: str


class Error(BaseModel):
    error: ErrorBody
