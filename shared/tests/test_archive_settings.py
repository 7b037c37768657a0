"""One source of archive limits: the ARCHIVE_* settings, with ArchiveLimits' defaults."""

from __future__ import annotations

from chatlens.shared.archives import ArchiveLimits
from chatlens.shared.settings import ArchiveSettings


def test_archive_settings_default_to_the_archive_limits(monkeypatch):
    for name in (
        "ARCHIVE_MAX_ENTRIES",
        "ARCHIVE_MAX_BYTES",
        "ARCHIVE_MAX_RATIO",
        "ARCHIVE_MAX_DEPTH",
    ):
        monkeypatch.delenv(name, raising=False)

    assert ArchiveSettings().archive_limits() == ArchiveLimits()


def test_archive_settings_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("ARCHIVE_MAX_ENTRIES", "250000")
    monkeypatch.setenv("ARCHIVE_MAX_BYTES", str(3 * 1024**3))
    monkeypatch.setenv("ARCHIVE_MAX_RATIO", "150")
    monkeypatch.setenv("ARCHIVE_MAX_DEPTH", "0")

    limits = ArchiveSettings().archive_limits()

    assert (limits.max_entries, limits.max_total_bytes, limits.max_ratio, limits.max_depth) == (
        250_000,
        3 * 1024**3,
        150.0,
        0,
    )


def test_the_default_entry_limit_fits_a_large_slack_workspace():
    # One file per channel per day: 50 busy channels over two years.
    assert ArchiveLimits().max_entries >= 50 * 2 * 365
