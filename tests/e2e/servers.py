"""Throw-away RabbitMQ and MariaDB servers that a test starts on its own ports and folders, so it
can stop, kill and restart them without touching the machine's own servers (the fault suite).

Both need the Debian packages (``rabbitmq-server``, ``mariadb-server``) and root (RabbitMQ's
scripts and ``mariadbd --user=root``); without them the caller skips on a laptop and fails in
CI (``chatlens.shared.testing.unavailable``).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chatlens.shared.testing import unavailable

RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
RABBITMQCTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"
COOKIE = Path("/var/lib/rabbitmq/.erlang.cookie")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process is not None and process.poll() is not None:
                break
            time.sleep(0.2)
    raise AssertionError(f"nothing listens on {port} after {timeout} s")


def wait_closed(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            time.sleep(0.2)
        except OSError:
            return
    raise AssertionError(f"{port} still answers after {timeout} s")


class RabbitMQServer:
    """One RabbitMQ node (``chatlens-fault-<port>@localhost``) whose data survives restarts."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.dist_port = free_port()
        self.node = f"chatlens-fault-{self.port}@localhost"
        self.process: subprocess.Popen | None = None
        (folder / "enabled_plugins").write_text("[].\n")
        if COOKIE.exists():  # rabbitmqctl talks to the node with the machine's cookie
            shutil.copy(COOKIE, folder / ".erlang.cookie")
            (folder / ".erlang.cookie").chmod(0o400)

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "HOME": str(self.folder),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.folder / "log"),
            "RABBITMQ_PID_FILE": str(self.folder / "pid"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.folder / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.folder / "rabbitmq"),
        }

    def start(self, tries: int = 3) -> None:
        """Start the node; again on another distribution port if the one chosen was taken
        meanwhile (a free port is free only when asked: any process's outgoing connection may
        take it from the ephemeral range, which stopped a CI run's restart of this node)."""
        for attempt in range(1, tries + 1):
            self.dist_port = free_port()
            log_file = self.folder / "server.log"
            written = log_file.stat().st_size if log_file.exists() else 0
            log = open(log_file, "ab")  # noqa: SIM115 - the server's lifetime
            self.process = subprocess.Popen(
                [RABBITMQ_SERVER],
                env=self._env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                wait_port(self.port, 60, self.process)
                return
            except AssertionError:
                with open(log_file, "rb") as logged:
                    logged.seek(written)
                    taken = b"dist_port_already_used" in logged.read()
                if not taken or attempt == tries:
                    raise

    def stop(self) -> None:
        subprocess.run(
            [RABBITMQCTL, "-n", self.node, "stop"], env=self._env(), capture_output=True, timeout=60
        )
        if self.process is not None:
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        wait_closed(self.port, 30)

    def restart(self) -> None:
        self.stop()
        self.start()


class MariaDBServer:
    """One mariadbd on its own port and data folder, root without a password on 127.0.0.1."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.process: subprocess.Popen | None = None
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={folder / 'data'}",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def url(self, database: str) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        log = open(self.folder / "server.log", "ab")  # noqa: SIM115 - the server's lifetime
        self.process = subprocess.Popen(
            [
                "mariadbd",
                "--no-defaults",
                f"--datadir={self.folder / 'data'}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                "--user=root",
                f"--socket={self.folder / 'sock'}",
                f"--pid-file={self.folder / 'pid'}",
                "--innodb-flush-log-at-trx-commit=1",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_port(self.port, 60, self.process)

    def create(self, database: str) -> None:
        subprocess.run(
            [
                "mariadb",
                "-h127.0.0.1",
                f"-P{self.port}",
                "-uroot",
                "-e",
                f"CREATE DATABASE IF NOT EXISTS `{database}`",
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )

    def crash(self) -> None:
        """SIGKILL: no clean shutdown, InnoDB recovers from its log at the next start."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(30)
        wait_closed(self.port, 30)

    def restart(self) -> None:
        self.crash()
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


@contextmanager
def rabbitmq_server(folder: Path) -> Iterator[RabbitMQServer]:
    if os.geteuid() != 0 or not os.access(RABBITMQ_SERVER, os.X_OK):
        unavailable("a throw-away RabbitMQ node needs rabbitmq-server and root")
    server = RabbitMQServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def mariadb_server(folder: Path) -> Iterator[MariaDBServer]:
    if os.geteuid() != 0 or not shutil.which("mariadbd") or not shutil.which("mariadb-install-db"):
        unavailable("a throw-away MariaDB server needs mariadb-server and root")
    server = MariaDBServer(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()
