"""The topics job's bus messages (issue 12): declared like every type in ``schemas`` (each
registers itself), in a module of their own; ``topology`` imports it, so every bus user knows
them before the queues' bindings are collected.

The gateway records a job and sends ``TopicsRequested`` to the owning index replica's job queue
(``queues.INDEX_JOBS``); the index answers with ``TopicsProgressed`` events, then
``TopicsComputed`` or ``schemas.JobFailed``, and caches the result, which ``TopicsLookup`` (an
index RPC) reads.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chatlens.shared import queues
from chatlens.shared.schemas import _INDEX_ERRORS, Message, SearchFilters

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
