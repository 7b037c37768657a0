"""Where the CLI keeps what it remembers: the server and tokens (``chatlens login``) and the
uploads already accepted (so an interrupted ``chatlens upload`` resumes).

Both live in one folder: ``$CHATLENS_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/chatlens``, else
``~/.config/chatlens``. ``CHATLENS_URL`` and ``CHATLENS_TOKEN`` override what is stored (for
scripts and CI: a token from the environment is used as is, never refreshed or written).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8080"


def config_dir(environ: Mapping[str, str]) -> Path:
    if environ.get("CHATLENS_CONFIG_DIR"):
        return Path(environ["CHATLENS_CONFIG_DIR"])
    base = environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "chatlens"


def write_json(path: Path, data: Any) -> None:
    """Write atomically (temp file, fsync, rename) and private: the file may hold tokens, and an
    interrupted run must leave the previous state, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as fp:
            json.dump(data, fp, indent=2, sort_keys=True)
            fp.flush()
            os.fsync(fp.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a JSON object")
    return data


@dataclass
class Credentials:
    """The server to talk to and the tokens for it."""

    url: str
    access_token: str | None = None
    refresh_token: str | None = None
    # Where refreshed tokens are written back; None for tokens that came from the environment.
    path: Path | None = None

    @classmethod
    def load(cls, environ: Mapping[str, str]) -> Credentials:
        path = config_dir(environ) / "config.json"
        stored = read_json(path)
        url = environ.get("CHATLENS_URL") or stored.get("url") or DEFAULT_URL
        if environ.get("CHATLENS_TOKEN"):
            return cls(url=url, access_token=environ["CHATLENS_TOKEN"])
        if stored.get("url") and stored["url"] != url:  # tokens of another server are no use
            return cls(url=url, path=path)
        return cls(
            url=url,
            access_token=stored.get("access_token"),
            refresh_token=stored.get("refresh_token"),
            path=path,
        )

    def save(self, tokens: dict) -> None:
        """Keep a new token pair (after login or a refresh)."""
        self.access_token = tokens["access_token"]
        self.refresh_token = tokens.get("refresh_token", self.refresh_token)
        if self.path is not None:
            write_json(
                self.path,
                {
                    "url": self.url,
                    "access_token": self.access_token,
                    "refresh_token": self.refresh_token,
                },
            )
