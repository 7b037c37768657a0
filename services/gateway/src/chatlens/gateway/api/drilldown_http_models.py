"""HTTP models of a report's drill-down (``GET …/analytics/messages``): the messages behind a
figure, for the OpenAPI document."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from chatlens.gateway.api.analytics_http_models import AnalyticsQuery, Answered


class MessagesQuery(AnalyticsQuery):
    """A report's filters, narrowed to a slot of the week in ``timezone`` (a heatmap's cell)."""

    hour: list[Annotated[int, Field(ge=0, le=23)]] = Field(
        default=[], max_length=24, description="hours of the day, 0-23 (may repeat)"
    )
    weekday: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default=[], max_length=7, description="days of the week, Monday 0 to Sunday 6 (may repeat)"
    )
    limit: int = Field(default=100, ge=1, le=500, description="the first messages listed")


class DrilledMessage(BaseModel):
    message_id: str
    platform: str
    chat: str
    sender: str | None
    sent_at: str = Field(description="in the query's time zone")
    kind: str
    text: str


class MessagesOut(Answered):
    total: int = Field(description="messages passing the filters; more than listed when cut")
    messages: list[DrilledMessage] = Field(description="the first `limit`, oldest first")
