"""Request and response bodies of the answer endpoints and the OpenAI-compatible ones."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chatlens.gateway.api.models import Strict

MAX_QUESTION_CHARS = 4000


class AskRequest(Strict):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    k: int = Field(default=6, ge=1, le=20, description="messages retrieved for the answer")


class Citation(BaseModel):
    n: int = Field(description="the block number the answer refers to as [n]")
    message_id: str
    sender: str | None
    sent_at: str
    text: str
    chat: str


class AnswerOut(BaseModel):
    id: str
    collection_id: str
    question: str
    answer: str
    citations: list[Citation]
    model: str | None = Field(description="null when no model was asked (nothing relevant found)")
    version: int
    created_at: str


# --- OpenAI-compatible (/v1) -------------------------------------------------------------------
# These follow OpenAI's shapes, which tolerate fields we do not use: extra keys are ignored.

class Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class EmbeddingsRequest(Lenient):
    input: str | list[str]
    model: str
    # OpenAI's Python client asks for base64 (little-endian float32) unless told otherwise.
    encoding_format: Literal["float", "base64"] = "float"


class ChatTurn(Lenient):
    role: Literal["system", "user", "assistant", "developer"]
    content: str = Field(max_length=32_000)


class ChatCompletionRequest(Lenient):
    model: str
    messages: list[ChatTurn] = Field(min_length=1, max_length=100)
    max_tokens: int = Field(default=256, ge=1, le=1024)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=1024)
    temperature: float | None = Field(default=None, ge=0, le=2)
    stream: bool = False
