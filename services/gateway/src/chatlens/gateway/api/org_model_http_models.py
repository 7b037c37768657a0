"""Request and response bodies of an org's own models (``api/org_models.py``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AnyHttpUrl, BaseModel, BeforeValidator, Field

from chatlens.gateway.api.http_models import Strict
from chatlens.shared.text import Line, clean


def _clean_url(value: object) -> object:
    """The URL as typed goes through the one text rule first: a NUL, a line break or a bidi
    override would otherwise be percent-encoded into the stored URL and quietly kept."""
    return clean(value) if isinstance(value, str) else value


Url = Annotated[AnyHttpUrl, BeforeValidator(_clean_url)]

ENDPOINT_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$"
SECRET_NAME = r"^[a-z0-9][a-z0-9_.-]{0,63}$"  # auth's provider-secret names


class EndpointIn(Strict):
    base_url: Url = Field(
        description="the API's base URL, as OpenAI's clients take it "
        "(e.g. http://vllm:8000/v1, https://api.openai.com/v1)"
    )
    model: Line = Field(min_length=1, max_length=200, description="the provider's model name")
    secret: str | None = Field(
        default=None,
        pattern=SECRET_NAME,
        description=(
            "the name of the org's provider secret holding the key (PUT /api/v1/auth/secrets/"
            "{name}); none for a server without keys"
        ),
    )
    context_length: int = Field(
        default=8192,
        ge=256,
        le=10_000_000,
        description=(
            "tokens of prompt plus answer the model takes (summaries size their chunks by it)"
        ),
    )


class EndpointOut(BaseModel):
    name: str
    base_url: str
    model: str
    secret: str | None = Field(description="the secret's name; the key is never shown")
    context_length: int
    updated_at: str


class EndpointList(BaseModel):
    endpoints: list[EndpointOut]


class EndpointTested(BaseModel):
    ok: bool = Field(description="the provider answered with this key")
    models: list[str] = Field(description="the model names the provider lists")
    has_model: bool = Field(description="whether the endpoint's model is among them")


class DefaultsIn(Strict):
    answers: Line | None = Field(
        default=None,
        max_length=200,
        description=(
            "the model answers (/ask) use when a request names none; null: the packaged model"
        ),
    )
    summaries: Line | None = Field(
        default=None,
        max_length=200,
        description=("the model summaries use when a request names none; null: the packaged model"),
    )


class DefaultsOut(BaseModel):
    answers: str | None
    summaries: str | None


class UsageQuery(Strict):
    since: date | None = Field(default=None, description="first UTC day counted")
    until: date | None = Field(default=None, description="last UTC day counted")


class UsageRow(BaseModel):
    model: str
    day: str | None = Field(description="the UTC day; null in the totals")
    requests: int = Field(description="requests answered")
    failed: int = Field(description="requests that failed (no tokens counted)")
    prompt_tokens: int
    completion_tokens: int


class UsageOut(BaseModel):
    models: list[UsageRow] = Field(description="totals per model over the days asked for")
    days: list[UsageRow] = Field(description="per UTC day and model, newest first")
