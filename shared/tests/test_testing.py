"""The rule every server-needing test follows: skip on a laptop, fail in CI."""

import pytest
from _pytest.outcomes import Failed, Skipped

from chatlens.shared.testing import FAST_TIER, require_server, unavailable


def test_a_missing_server_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv(FAST_TIER, raising=False)
    with pytest.raises(Failed):
        unavailable("no server")
    with pytest.raises(Failed):
        require_server("127.0.0.1", 1, "nothing on port 1")


def test_a_missing_server_skips_elsewhere(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv(FAST_TIER, raising=False)
    with pytest.raises(Skipped):
        unavailable("no server")


def test_the_fast_tier_skips_every_server_test_without_looking(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv(FAST_TIER, "fast")
    with pytest.raises(Skipped):
        unavailable("no server")
    with pytest.raises(Skipped):  # without looking: RabbitMQ runs here, and is skipped anyway
        require_server("127.0.0.1", 5672, "RabbitMQ")


def test_with_ci_set_the_fast_tier_skips_nothing(monkeypatch):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv(FAST_TIER, "fast")
    with pytest.raises(Failed):
        unavailable("no server")
