"""Why an ingest can fail for good, and the job-failure code each reason is reported with.

These are handled outcomes: the handler publishes ``JobFailed`` and acks, because no redelivery
can change a file that is not a chat export. Transient trouble (the broker, Dask) is raised as
:class:`chatlens.shared.bus.TransientError` instead, and the bus retries it.
"""

from __future__ import annotations


class IngestFailed(Exception):
    """The upload cannot be ingested; ``str(exc)`` is the reason shown to the user."""

    code = "parse_failed"


class NotAChatExport(IngestFailed):
    """The file is empty, binary, malformed, or in no supported chat-export layout.

    ``reason`` is a short machine-readable word ("invalid_json", "too_deep", "binary", ...);
    ``location`` says where, when known ("line 12", "$.messages[3]", "byte 4096", a zip entry),
    and is part of the message.
    """

    code = "parse_failed"

    def __init__(
        self, message: str, *, reason: str = "not_a_chat_export", location: str | None = None
    ) -> None:
        super().__init__(f"{message} (at {location})" if location else message)
        self.reason, self.location = reason, location


class NothingImported(IngestFailed):
    """The file parsed, but not one message came out of it (every entry malformed, or no
    messages at all): the job fails with the reason, and no index version is made of nothing."""

    code = "no_messages"


class GaveUp(IngestFailed):
    """The work failed for a passing reason (Dask, the broker) on every delivery the queue
    allows: the job fails now rather than wait for a message the dead-letter queue took."""

    code = "gave_up"


class UploadMissing(IngestFailed):
    """The upload is not in the store, cannot be read, or its key points outside the store."""

    code = "upload_missing"


class UnsupportedUpload(IngestFailed):
    """The upload asks for something this worker cannot do (a format, a time zone)."""

    code = "parse_failed"


class UnsupportedFormat(UnsupportedUpload):
    """The upload asked for a format name this worker does not know."""

    code = "unsupported_format"
