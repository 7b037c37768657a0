"""The rule every server-needing test follows: skip on a laptop, fail in CI."""

import pytest
from _pytest.outcomes import Failed, Skipped

from chatlens.shared.testing import require_server, unavailable


def test_a_missing_server_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(Failed):
        unavailable("no server")
    with pytest.raises(Failed):
        require_server("127.0.0.1", 1, "nothing on port 1")


def test_a_missing_server_skips_elsewhere(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(Skipped):
        unavailable("no server")
