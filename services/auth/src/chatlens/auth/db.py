"""Auth's database engine: the one recipe every service uses (``chatlens.shared.db``)."""

from __future__ import annotations

from chatlens.shared.db import make_engine, ping, session_factory

__all__ = ["make_engine", "ping", "session_factory"]
