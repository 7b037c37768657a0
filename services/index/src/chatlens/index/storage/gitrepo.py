"""The only place that runs Git: a thin wrapper over the ``git`` command line.

Each collection is a repository whose commits are index versions, tagged ``v<N>``. The repository
config makes Git fsync everything it writes (``git commit`` does not by default), commits with a
fixed author so versions do not depend on who runs the service, and never auto-gc: segment files
are already compact binaries, and a detached background gc would outlive the process and race it.
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

AUTHOR_NAME = "chatlens-index"
AUTHOR_EMAIL = "index@chatlens.invalid"

REPO_CONFIG = {
    "core.fsync": "all",
    "core.fsyncMethod": "fsync",
    "core.autocrlf": "false",
    "user.name": AUTHOR_NAME,
    "user.email": AUTHOR_EMAIL,
    "commit.gpgSign": "false",
    "tag.gpgSign": "false",
    "gc.auto": "0",
    "maintenance.auto": "false",
}


class GitError(RuntimeError):
    """A git command failed; its stderr is in the message."""


class GitRepo:
    """A Git working tree at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _invocation(self, args: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
        # Only the repository's own config counts: the environment must not redirect Git, and a
        # user's or the system's config must not add hooks, signing or templates. The data
        # volume may belong to another uid than the service (containers): safe.directory.
        env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
        env.update(
            GIT_CONFIG_NOSYSTEM="1",
            GIT_CONFIG_GLOBAL=os.devnull,
            GIT_TERMINAL_PROMPT="0",
            LC_ALL="C",
        )
        return ["git", "-c", f"safe.directory={self.path}", "-C", str(self.path), *args], env

    def popen(self, *args: str, **kwargs) -> subprocess.Popen:
        """A git process to stream to or from (``cat-file --batch``, ``fast-import``)."""
        command, env = self._invocation(args)
        return subprocess.Popen(command, env=env, **kwargs)

    def output(self, *args: str, input_: bytes | None = None) -> bytes:
        """The standard output of a git command that must succeed."""
        return self._run(*args, input_=input_).stdout

    def _run(
        self, *args: str, check: bool = True, input_: bytes | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        command, env = self._invocation(args)
        result = subprocess.run(command, capture_output=True, env=env, check=False, input=input_)
        if check and result.returncode != 0:
            raise GitError(
                f"git {' '.join(args)} failed ({result.returncode}): "
                f"{result.stderr.decode(errors='replace').strip()}"
            )
        return result

    def init(self) -> None:
        """Create the repository (branch ``main``) and write its config."""
        self._run("init", "-q", "-b", "main")
        for key, value in REPO_CONFIG.items():
            self._run("config", key, value)

    def is_dirty(self) -> bool:
        """True when the working tree differs from HEAD, untracked files included."""
        out = self._run("status", "--porcelain", "--untracked-files=all").stdout
        return bool(out.strip())

    def rollback(self) -> None:
        """Throw away every change since HEAD: modified, deleted and untracked files."""
        self._run("reset", "-q", "--hard", "HEAD")
        self._run("clean", "-q", "-f", "-d", "-x")

    def commit_all(self, message: str) -> str:
        """Stage every change and commit it; returns the new commit id."""
        self._run("add", "-A")
        self._run("commit", "-q", "--no-verify", "-m", message)
        return self.rev_parse("HEAD") or ""

    def tag(self, name: str, ref: str = "HEAD") -> None:
        self._run("tag", name, ref)

    def delete_tag(self, name: str) -> bool:
        """Remove the tag ``name``; False when there was none."""
        return self._run("tag", "-d", name, check=False).returncode == 0

    def rev_parse(self, ref: str) -> str | None:
        """The commit id ``ref`` names, or None when it names nothing."""
        result = self._run("rev-parse", "-q", "--verify", f"{ref}^{{commit}}", check=False)
        if result.returncode != 0:
            return None
        return result.stdout.decode().strip() or None

    def show(self, ref: str, path: str) -> bytes | None:
        """The content of ``path`` at ``ref``, or None when either does not exist."""
        result = self._run("show", f"{ref}:{path}", check=False)
        return result.stdout if result.returncode == 0 else None

    def tags(self) -> list[str]:
        return self._run("tag", "--list").stdout.decode().split()

    def tag_log(self, pattern: str = "v*") -> list[tuple[str, str, str]]:
        """(tag, commit date ISO 8601, commit subject) of every tag matching ``pattern``."""
        out = self._run(
            "for-each-ref",
            f"refs/tags/{pattern}",
            "--format=%(refname:short)%00%(creatordate:iso-strict)%00%(subject)",
        ).stdout
        rows = []
        for line in out.decode(errors="replace").splitlines():
            name, date, subject = line.split("\0", 2)
            rows.append((name, date, subject))
        return rows

    def show_many(self, specs: list[str]) -> list[bytes | None]:
        """The content of each ``ref:path`` (None where missing), in one ``cat-file`` process."""
        if not specs:
            return []
        result = self._run("cat-file", "--batch", input_=("\n".join(specs) + "\n").encode())
        out, pos, contents = result.stdout, 0, []
        for _ in specs:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            pos = end + 1
            if len(header) == 2 and header[1] == b"missing":
                contents.append(None)
                continue
            size = int(header[2])
            contents.append(out[pos : pos + size])
            pos += size + 1  # the content is followed by a newline
        return contents

    def log_messages(self) -> list[str]:
        """Commit subjects and bodies, newest first."""
        out = self._run("log", "--format=%B%x00").stdout.decode()
        return [entry.strip() for entry in out.split("\0") if entry.strip()]
