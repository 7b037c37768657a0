"""HTTP models of the topics endpoints (``chatlens.gateway.api.topics``): what they take and
answer, for the OpenAPI document. Ranges are checked by the use case, each with its own code."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from chatlens.gateway.api import http_models
from chatlens.gateway.api.analytics_http_models import AnalyticsQuery, Answered
from chatlens.shared.schemas import LanguageCode


class TopicsOptions(BaseModel):
    k: int | None = Field(
        default=None,
        description="the number of topics (k_min..k_max); chosen by silhouette when absent",
    )
    k_min: int = Field(default=4, description="smallest k tried (2..50)")
    k_max: int = Field(default=20, description="largest k tried (2..50)")
    min_words: int = Field(default=3, description="shorter messages are noise (1..50)")
    map_points: int = Field(
        default=5000, description="points of the 2-D map, a sample (0..20000; 0: no map)"
    )
    bucket: Literal["week", "month"] = Field(default="month", description="topics over time")


class TopicsQuery(TopicsOptions, AnalyticsQuery):
    """The search filters, ``version`` and ``timezone`` as on every analytics report, and the
    parameters the topics were started with."""


class TopicsIn(TopicsOptions, http_models.Strict):
    """Start computing topics: the same fields as the result's query string, as JSON."""

    platform: list[str] = Field(default=[], max_length=20)
    chat: list[str] = Field(default=[], max_length=50)
    sender: list[str] = Field(default=[], max_length=50, description="display name or id")
    kind: list[http_models.Kind] = Field(default=[], max_length=7, description="message type")
    language: list[LanguageCode] = Field(
        default=[], max_length=20, description="detected language, ISO 639-1"
    )
    since: str | None = Field(default=None, max_length=64, examples=["2025-02-01"])
    until: str | None = Field(default=None, max_length=64, examples=["2025-03-01"])
    version: http_models.VersionRef | None = Field(
        default=None, description="a version number or a tag name; the latest when absent"
    )
    timezone: str = Field(
        default="UTC",
        min_length=1,
        max_length=64,
        description="IANA time zone of the weeks and months",
    )


class TopicTerm(BaseModel):
    term: str
    score: float = Field(description="class-based TF-IDF")


class Representative(BaseModel):
    message_id: str
    sender: str
    sent_at: str
    text: str = Field(description="the first 500 characters")


class Topic(BaseModel):
    topic: int = Field(description="0 is the largest")
    label: str = Field(description="its first three terms")
    terms: list[TopicTerm]
    size: int
    share: float = Field(description="of the clustered messages")
    representatives: list[Representative] = Field(description="closest to the centroid")


class TopicCount(BaseModel):
    bucket: str = Field(examples=["2025-02", "2025-W07"])
    topic: int
    messages: int


class KScore(BaseModel):
    k: int
    silhouette: float


class MapPoint(BaseModel):
    message_id: str
    x: float
    y: float
    topic: int


class TopicMap(BaseModel):
    method: str = Field(examples=["openTSNE"])
    points: list[MapPoint]


class TopicsOut(Answered):
    k: int
    chosen_by: Literal["silhouette", "fixed"]
    silhouette: float | None = Field(description="of the topics, on a sample (cosine)")
    scores: list[KScore] = Field(description="each k tried")
    messages: int = Field(description="authored messages that pass the filters")
    clustered: int
    noise: int = Field(description="too short, or without a vector")
    topics: list[Topic]
    over_time: list[TopicCount]
    map: TopicMap
    parameters: dict[str, Any]
    seed: int


class TopicsJobOut(BaseModel):
    version: int = Field(description="the version being clustered")
    job: http_models.JobOut = Field(description="follow it at /api/v1/jobs/{id} (or its events)")
