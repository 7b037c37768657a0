"""The worker reads zips within the gateway's ARCHIVE_* limits, and still refuses bombs."""

from __future__ import annotations

from chatlens.embedding_worker.config import EmbeddingSettings
from chatlens.embedding_worker.handlers import Handlers
from chatlens.shared import schemas
from chatlens.shared.archives import ArchiveLimits
from chatlens.shared.bus import Delivery
from chatlens.shared.settings import ArchiveSettings

DELIVERY = Delivery(
    queue="embedding.ingest", redelivered=False, delivery_count=0, correlation_id=None
)


class Recorder:
    def __init__(self) -> None:
        self.published: list[schemas.Message] = []

    def publish(self, message: schemas.Message) -> None:
        self.published.append(message)


class NoEmbedder:
    """A refused upload never reaches the model."""

    def submit(self, texts):
        raise AssertionError("nothing should be embedded")


def test_the_worker_reads_the_archive_settings_the_gateway_reads(monkeypatch):
    monkeypatch.setenv("ARCHIVE_MAX_ENTRIES", "12345")
    monkeypatch.setenv("ARCHIVE_MAX_BYTES", "1000000")

    settings = EmbeddingSettings()

    assert isinstance(settings, ArchiveSettings)
    assert settings.archive_limits() == ArchiveLimits(max_entries=12345, max_total_bytes=1_000_000)


def test_an_archive_past_the_configured_limits_fails_the_job(tmp_path, fixtures_dir, make_zip):
    (tmp_path / "org1").mkdir()
    chat = fixtures_dir / "WhatsApp Chat with Ops.txt"
    make_zip(tmp_path / "org1" / "many.zip", {f"{name}/_chat.txt": chat for name in "abcde"})
    make_zip(tmp_path / "org1" / "big.zip", {"_chat.txt": chat.read_bytes() * 50})
    publisher = Recorder()
    handlers = Handlers(
        publisher.publish,
        NoEmbedder(),
        upload_dir=tmp_path,
        archive_limits=ArchiveLimits(max_entries=4, max_total_bytes=10_000),
    )

    for name in ("many.zip", "big.zip"):
        handlers.ingest(
            schemas.IngestRequested(
                job_id=name,
                org_id="org1",
                collection_id="col1",
                upload_key=f"org1/{name}",
                filename=name,
                sha256="0" * 64,
                size=1,
            ),
            DELIVERY,
        )

    many, big = [m for m in publisher.published if isinstance(m, schemas.JobFailed)]
    assert many.code == "parse_failed" and "more than 4 entries" in many.reason
    assert big.code == "parse_failed" and "expands past 10000 bytes" in big.reason
    assert not [m for m in publisher.published if isinstance(m, schemas.ChunksEmbedded)]
