"""HTTP models of the analytics endpoints: their query strings and answers (for the OpenAPI
document; the numbers themselves come from the index, ``chatlens.index.analytics``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from chatlens.gateway.api import http_models
from chatlens.shared.schemas import LanguageCode
from chatlens.shared.text import Line


class AnalyticsQuery(http_models.Strict):
    """Filters as in search (a name may repeat: ``?sender=Marta&sender=Sam``); ``since`` and
    ``until`` without an offset are in ``timezone``; ``since`` inclusive, ``until`` exclusive."""

    platform: list[Line] = Field(default=[], max_length=20)
    chat: list[Line] = Field(default=[], max_length=50)
    sender: list[Line] = Field(default=[], max_length=50, description="display name or id")
    kind: list[http_models.Kind] = Field(default=[], max_length=7, description="message type")
    language: list[LanguageCode] = Field(
        default=[],
        max_length=20,
        description="the language detected in a text at ingest, ISO 639-1 (may repeat: "
        "`?language=pt&language=en`); a text with none detected passes no language",
    )
    since: Line | None = Field(default=None, max_length=64, examples=["2025-02-01"])
    until: Line | None = Field(default=None, max_length=64, examples=["2025-03-01"])
    version: http_models.VersionRef | None = Field(
        default=None, description="a version number or a tag name; the latest when absent"
    )
    timezone: Line = Field(
        default="UTC",
        min_length=1,
        max_length=64,
        description="IANA time zone of days, hours and weekdays",
        examples=["Europe/Lisbon"],
    )


class ActivityQuery(AnalyticsQuery):
    bucket: Literal["day", "week", "month"] = "day"
    stack: Literal["person", "chat"] | None = Field(
        default=None, description="one series per sender or chat (the busiest `top`)"
    )
    top: int = Field(default=10, ge=1, le=50)


class PeopleQuery(AnalyticsQuery):
    gap_minutes: int = Field(
        default=30, ge=1, le=10_080, description="a longer silence starts a new conversation"
    )
    limit: int = Field(default=100, ge=1, le=1000)


class ConversationsQuery(AnalyticsQuery):
    gap_minutes: int = Field(
        default=30, ge=1, le=10_080, description="a longer silence starts a new conversation"
    )
    top: int = Field(default=10, ge=1, le=50, description="starters and enders listed")


class InteractionQuery(AnalyticsQuery):
    gap_minutes: int = Field(
        default=30,
        ge=1,
        le=10_080,
        description="a longer silence starts a new conversation (turns)",
    )
    bucket: Literal["day", "week", "month"] = Field(
        default="month", description="the buckets of over_time"
    )
    top: int = Field(default=10, ge=1, le=50, description="longest threads and reply trees")


class LanguageQuery(AnalyticsQuery):
    top: int = Field(default=20, ge=1, le=50, description="words, phrases, emoji, domains")
    languages: list[Line] = Field(
        default=[],
        max_length=40,
        description="ISO 639-1 codes whose stop words are left out (may repeat: "
        "`?languages=en&languages=pt`); en, pt, es, fr, de, it, nl when absent",
    )


class CalendarQuery(AnalyticsQuery):
    year: int | None = Field(
        default=None, ge=1970, le=2100, description="the latest year with messages when absent"
    )


class IdentitiesQuery(AnalyticsQuery):
    limit: int = Field(default=100, ge=1, le=1000, description="suggestions listed")


class ExportQuery(AnalyticsQuery):
    format: Literal["csv", "json", "markdown"] = Field(
        default="csv",
        description="CSV (formula injection neutralised), JSON, or a Markdown "
        "transcript (a section per chat, a heading per day)",
    )


class Answered(BaseModel):
    version: int
    timezone: str


class DayCount(BaseModel):
    day: str
    messages: int


class Streak(BaseModel):
    first: str
    last: str
    days: int


class Silence(BaseModel):
    after: str
    until: str
    seconds: float


class OverviewOut(Answered):
    messages: int = Field(description="authored messages (system events apart)")
    words: int
    participants: int
    chats: int
    first: str | None
    last: str | None
    span_days: int
    active_days: int
    average_per_day: float
    average_per_active_day: float
    busiest_day: DayCount | None
    busiest_hour: dict | None = Field(description="{hour 0-23, messages}")
    busiest_weekday: dict | None = Field(description="{weekday 1 Monday - 7 Sunday, messages}")
    busiest_month: dict | None = Field(description="{month YYYY-MM, messages}")
    longest_streak: Streak | None
    longest_silence: Silence | None
    media: int
    links: int
    edited: int
    deleted: int
    system_events: int


class SeriesPoint(BaseModel):
    bucket: str
    key: str | None = Field(default=None, description="sender or chat when stacked")
    messages: int


class LengthBucket(BaseModel):
    min: int
    max: int | None
    messages: int


class ActivityOut(Answered):
    bucket: str
    stack: str | None
    series: list[SeriesPoint]
    heatmap: list[list[int]] = Field(description="7 rows (Monday first) of 24 hours")
    lengths: list[LengthBucket] = Field(description="messages by length in characters")


class Person(BaseModel):
    sender: str
    messages: int
    words: int
    average_length: float
    media: int
    links: int
    emoji: int
    first_seen: str
    last_seen: str
    active_days: int
    share: float
    conversations_started: int
    conversations_ended: int
    replies_given: int
    replies_received: int
    median_response_seconds: float | None


class PeopleOut(Answered):
    people: list[Person]
    total: int = Field(description="senders in the selection (more than listed when cut)")


class SenderCount(BaseModel):
    sender: str | None
    conversations: int


class SizeBucket(BaseModel):
    min: int
    max: int | None
    conversations: int


class Conversation(BaseModel):
    chat: str
    messages: int
    participants: int
    started_at: str
    ended_at: str
    started_by: str | None
    ended_by: str | None
    seconds: float


class ConversationsOut(Answered):
    count: int
    messages: int
    median_messages: float | None
    median_seconds: float | None
    gap_minutes: int
    sizes: list[SizeBucket]
    started_by: list[SenderCount]
    ended_by: list[SenderCount]
    longest: Conversation | None
    ice_breakers: list[SenderCount] = Field(
        default=[], description="who starts conversations after a long silence in the chat"
    )
    ice_break_hours: int = Field(default=24, description="the silence that counts as long")


class Cell(BaseModel):
    sender: str = Field(description="who replied, answered or mentioned")
    recipient: str = Field(description="whom")
    count: int


class TimedCell(Cell):
    median_seconds: float = Field(description="median wait after the recipient's message")


class Thread(BaseModel):
    thread_id: str
    chat: str
    messages: int
    participants: int
    started_at: str
    ended_at: str


class Threads(BaseModel):
    count: int
    messages: int
    median_messages: float | None
    longest: list[Thread]


class ReplyTree(BaseModel):
    message_id: str = Field(description="the message the tree grows from")
    chat: str
    sender: str | None
    started_at: str
    depth: int = Field(description="messages on the longest chain of replies to replies")
    messages: int


class ReplyTrees(BaseModel):
    count: int
    messages: int
    deepest: int | None
    longest: list[ReplyTree]


class InteractionPoint(BaseModel):
    bucket: str
    replies: int
    responses: int
    median_response_seconds: float | None


class EmojiTotal(BaseModel):
    emoji: str
    count: int


class ReactionCount(BaseModel):
    sender: str
    count: int


class Reactions(BaseModel):
    total: int = Field(default=0, description="reactions on the selection's messages")
    received: list[ReactionCount] = Field(default=[], description="on each author's messages")
    given: list[ReactionCount] = Field(
        default=[],
        description=("by each reactor the platform names (Telegram names only a few recent ones)"),
    )
    emoji: list[EmojiTotal] = Field(default=[], description="the most used, busiest first")


class InteractionOut(Answered):
    replies: list[TimedCell] = Field(description="native replies (reply_to), busiest first")
    responses: list[TimedCell] = Field(
        description="turn-taking: sender wrote right after recipient within a conversation"
    )
    over_time: list[InteractionPoint] = Field(
        default=[], description="replies and responses per bucket of the answering message"
    )
    bucket: str = "month"
    mentions: list[Cell] = Field(description="@name of another sender, once per message")
    threads: Threads = Field(description="messages sharing a native thread id")
    reply_trees: ReplyTrees = Field(description="rebuilt by following reply_to")
    reactions: Reactions = Field(
        default_factory=Reactions,
        description=("Telegram, Slack and Discord reactions; none where the platform has none"),
    )


class WordCount(BaseModel):
    word: str
    count: int


class WordMonth(BaseModel):
    month: str
    word: str
    count: int


class PhraseCount(BaseModel):
    phrase: str
    count: int


class EmojiCount(BaseModel):
    emoji: str
    count: int


class DomainCount(BaseModel):
    domain: str
    count: int


class SentimentMonth(BaseModel):
    month: str
    messages: int
    mean: float = Field(description="mean compound score, -1 to 1")


class Sentiment(BaseModel):
    model: str = Field(description="vaderSentiment (English lexicon)")
    scored: int = Field(description="messages scored: every message read")
    positive: float | None
    negative: float | None
    neutral: float | None
    months: list[SentimentMonth]


class DetectedLanguage(BaseModel):
    language: str | None = Field(description="ISO 639-1; null: too short, unclear, or older")
    messages: int


class LanguageOut(Answered):
    languages: list[str] = Field(description="whose stop words were left out")
    messages: int = Field(
        description="messages read, all of them: every authored, undeleted message with text "
        "in the selection (the counts are exact)"
    )
    words: list[WordCount]
    words_by_month: list[WordMonth] = Field(
        default=[], description="the first five words' use per month (over time)"
    )
    phrases: list[PhraseCount] = Field(description="two words in a row, seen more than once")
    emoji: list[EmojiCount]
    domains: list[DomainCount]
    sentiment: Sentiment
    detected: list[DetectedLanguage] = Field(
        default=[],
        description=("texts per language, detected at ingest (py3langid), busiest first"),
    )


class CalendarOut(Answered):
    year: int | None
    years: list[int] = Field(description="the years that have messages")
    days: list[DayCount] = Field(description="active days only")
    total: int
    max: int = Field(description="the busiest day's messages")


class Identity(BaseModel):
    sender: str
    platforms: list[str]
    chats: int
    messages: int
    first_seen: str
    last_seen: str


class Suggestion(BaseModel):
    senders: list[Identity]
    evidence: list[
        Literal["same name", "same phone number", "same handle", "first name", "real name"]
    ]
    messages: int


class IdentitiesOut(Answered):
    suggestions: list[Suggestion] = Field(
        description="senders that look like one person, the most messages first"
    )
    total: int = Field(description="suggestions in all (more than listed when cut)")
    senders: int = Field(description="distinct senders (people) in the selection")
    people: dict[str, list[str]] = Field(
        description="the version's people: each person's sender names (merged already, so "
        "not suggested again)"
    )


class PeopleIn(http_models.Strict):
    """``merge``: ``senders`` (sender names as the reports show them) count as ``person`` from
    the new version on, leaving any person they were in; ``split``: they leave ``person`` again
    (every name of it when ``senders`` is empty)."""

    action: Literal["merge", "split"]
    person: Line = Field(min_length=1, max_length=200)
    senders: list[Line] = Field(default=[], max_length=100)


class GroupingOut(BaseModel):
    version: int = Field(description="the collection's live version after the change")
    changed: bool = Field(description="false when it was so already (no new version)")
    people: dict[str, list[str]]
