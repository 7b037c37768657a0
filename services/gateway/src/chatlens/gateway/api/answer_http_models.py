"""Request and response bodies of the answer endpoints and the OpenAI-compatible ones."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chatlens.gateway.api.http_models import SearchFiltersIn, Strict, VersionRef
from chatlens.shared import schemas
from chatlens.shared.text import Line, ModelName, OptionalParagraph, Paragraph

MAX_QUESTION_CHARS = 4000


class AskRequest(Strict):
    question: Paragraph = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    k: int = Field(default=6, ge=1, le=20, description="messages retrieved for the answer")
    stream: bool = Field(
        default=False,
        description=(
            "server-sent events: `token` events ({text}) as the model writes, then one `answer` "
            "event, the recorded answer with its citations, version and id"
        ),
    )
    version: VersionRef | None = Field(
        default=None,
        description=(
            "answer from this index version, a number or a tag name (unknown: 404 "
            "version_not_found / tag_not_found); default the latest"
        ),
    )
    filters: SearchFiltersIn | None = Field(
        default=None,
        description=(
            "explicit filters; each field given wins over what the question itself says "
            '("what did Alice say in March" filters sender and dates on its own)'
        ),
    )
    model: ModelName | None = Field(
        default=None,
        description=(
            "a registry LLM or one of the org's endpoints; default the org's default model for "
            "answers (PUT /api/v1/models/defaults), else the packaged model"
        ),
    )


class AppliedFilters(BaseModel):
    applied: dict[str, Any] = Field(description="the filters the retrieval used")
    from_question: dict[str, str] = Field(
        description="filter -> the words of the question it was read from"
    )
    from_request: list[str] = Field(description="filters given explicitly in the request")
    counted: dict[str, Any] | None = Field(
        default=None,
        description=(
            "a counting question (how many, who most/least, when first/last, busiest): the "
            "analytics report and field the figure was read from; the model was not asked"
        ),
    )


class Citation(BaseModel):
    n: int = Field(description="the block number the answer refers to as [n]")
    message_id: str
    sender: str | None
    sent_at: str
    text: str
    chat: str


class GroundingOut(BaseModel):
    """What the check of the answer against its citations found."""

    extractive: bool = Field(description="the answer quotes a cited message (see reason)")
    reason: Literal[
        "supported",
        "recited",
        "unsupported_claims",
        "no_information",
        "nothing_to_quote",
        "echoed_prompt",
    ] = Field(
        description=(
            "supported: the model's answer, every name, number, date and place in "
            "it stated by its citations; recited: the model's answer, all it states "
            "in one other retrieved message, which it now cites; "
            "unsupported_claims: it stated something they do not, so a message is "
            "quoted instead; no_information: it said nothing the messages say "
            "beyond the question, so a message is quoted; nothing_to_quote: "
            "neither, and no retrieved message shares a word with the question; "
            "echoed_prompt: the model repeated its prompt (the <messages> fence, "
            "numbered context lines, the system prompt), so a message is quoted, "
            "or, when none matches, the answer says so with its citations"
        )
    )
    unsupported: list[str] = Field(description="the model's claims its citations do not state")
    disagreements: list[str] = Field(
        description=(
            "an unsupported claim another retrieved message states: what the cited message says "
            "and who mentions the other"
        )
    )


class AnswerOut(BaseModel):
    id: str
    collection_id: str
    question: str
    answer: str
    citations: list[Citation]
    model: str | None = Field(description="null when no model was asked (nothing relevant found)")
    version: int
    filters: AppliedFilters | None = Field(
        default=None, description="null for answers recorded before filters"
    )
    created_at: str
    extractive: bool = Field(
        default=False,
        description=(
            "true when the answer is a quote of a cited message rather than the model's words: "
            "what the model wrote was not supported by what it cited (grounding says why)"
        ),
    )
    grounding: GroundingOut | None = Field(
        default=None,
        description=(
            "the check of a generated answer against its citations; null when no model wrote it "
            "(nothing relevant found, counted answers) and for answers recorded before the check"
        ),
    )


class SummaryRequest(Strict):
    """What to summarise: a chat, a sender, a time window, or any mix (all of them: the whole
    collection). ``since`` is inclusive, ``until`` exclusive, as in search."""

    chat: Line | list[Line] | None = None
    sender: Line | list[Line] | None = None
    since: str | None = Field(default=None, max_length=64, examples=["2025-03-01"])
    until: str | None = Field(default=None, max_length=64, examples=["2025-03-08"])
    version: int | None = Field(default=None, ge=0)
    model: ModelName | None = None


class SummaryOut(BaseModel):
    id: str
    collection_id: str
    summary: str
    citations: list[Citation]
    chunks: int = Field(description="map steps: 1 when the window fitted one prompt, 0 if empty")
    messages: int = Field(description="messages summarised")
    filters: dict[str, Any]
    model: str | None
    version: int
    created_at: str


class ModelSetDefault(Strict):
    model: ModelName


class ModelsStatusOut(schemas.Models):
    """The registry's models and where they are loaded, as inference reports them (the wire
    model's content)."""


# --- OpenAI-compatible (/v1) -------------------------------------------------------------------
# These follow OpenAI's shapes, which tolerate fields we do not use: extra keys are ignored.


class Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class EmbeddingsRequest(Lenient):
    input: str | list[str]
    model: ModelName
    # OpenAI's Python client asks for base64 (little-endian float32) unless told otherwise.
    encoding_format: Literal["float", "base64"] = "float"


class ChatTurn(Lenient):
    role: Literal["system", "user", "assistant", "developer"]
    content: OptionalParagraph = Field(max_length=32_000)


class StreamOptions(Lenient):
    include_usage: bool = False


class ChatCompletionRequest(Lenient):
    model: ModelName
    messages: list[ChatTurn] = Field(min_length=1, max_length=100)
    max_tokens: int = Field(default=256, ge=1, le=1024)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=1024)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    seed: int | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    # What we cannot do is refused rather than ignored: one choice per request, no logprobs.
    n: Literal[1] = Field(default=1, description="choices: only 1 is supported")
    logprobs: Literal[False] | None = Field(default=None, description="not supported")


class OpenAIModel(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str
    kind: str = Field(description="llm or embedding (ours; OpenAI's clients ignore it)")
    context_length: int | None = None


class OpenAIModelList(BaseModel):
    object: Literal["list"]
    data: list[OpenAIModel]


class OpenAIEmbedding(BaseModel):
    object: Literal["embedding"]
    index: int
    embedding: list[float] | str = Field(description="floats, or base64 little-endian float32")


class OpenAIUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int | None = None
    total_tokens: int


class EmbeddingsOut(BaseModel):
    object: Literal["list"]
    model: str
    data: list[OpenAIEmbedding]
    usage: OpenAIUsage


class ChatMessageOut(BaseModel):
    role: Literal["assistant"]
    content: str


class ChatChoice(BaseModel):
    index: int
    finish_reason: Literal["stop", "length"]
    logprobs: None = None
    message: ChatMessageOut


class ChatCompletionOut(BaseModel):
    """Without ``stream``; with it, server-sent ``chat.completion.chunk`` events, then
    ``[DONE]``."""

    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[ChatChoice]
    usage: OpenAIUsage


class OpenAIErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str


class OpenAIError(BaseModel):
    """Refusals on /v1 in OpenAI's error shape, which its clients read."""

    error: OpenAIErrorBody
