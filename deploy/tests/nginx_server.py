"""A real nginx for the deployment tests: run in the foreground from a folder of its own, waited
for until it answers, then stopped and the folder removed (the proxy, header, error and web app
tests, and the Content-Security-Policy fixture of conftest.py)."""

from __future__ import annotations

import http.client
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def served_folder(prefix: str) -> Path:
    """A new folder for nginx's configuration and files. Not pytest's tmp_path: that is private
    to its owner, and an nginx started by root runs its workers as an unprivileged user that
    must reach the temp folders and the web root."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@contextmanager
def nginx_serving(nginx: str, folder: Path, port: int, ready_path: str) -> Iterator[None]:
    """nginx with ``folder/nginx.conf`` (``-p folder``, ``daemon off``), once ``GET ready_path``
    on ``port`` answers 200; afterwards it is stopped and ``folder`` removed."""
    process = subprocess.Popen(
        [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                if get(port, ready_path)[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"nginx did not start: {process.communicate()[0]!r}")
            time.sleep(0.1)
        yield
    finally:
        process.terminate()
        process.wait(10)
        process.stdout.close()
        shutil.rmtree(folder, ignore_errors=True)
