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
    """multipart/form-data: one or more ``files``, with an optional ``format`` and ``timezone``."""

    files: list[bytes]
    format: Literal["auto", "whatsapp"] = "auto"
    timezone: str | None = None


class UploadAccepted(BaseModel):
    jobs: list[dict[str, str]]


class SearchRequest(Strict):
    query: str = Field(min_length=1, max_length=2000)
    mode: Literal["semantic"] = Field(
        default="semantic", description="keyword and hybrid modes come with the search issue"
    )
    k: int = Field(default=10, ge=1, le=100)
    version: int | None = Field(default=None, ge=1)
    context: int = Field(default=2, ge=0, le=20)


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
    score: float
    context: list[ContextMessage]


class SearchResponse(BaseModel):
    results: list[SearchResult]
    version: int


class ErrorBody(BaseModel):
    code: str
    message: str


class Error(BaseModel):
    error: ErrorBody
