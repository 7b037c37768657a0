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
    """The file is empty, binary, or has no line in a supported chat-export layout."""

    code = "parse_failed"


class UploadMissing(IngestFailed):
    """The upload is not in the store, cannot be read, or its key points outside the store."""

    code = "upload_missing"


class UnsupportedUpload(IngestFailed):
    """The upload asks for something this worker cannot do (a format, a time zone)."""

    code = "parse_failed"
