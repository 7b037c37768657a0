"""What nginx itself refuses comes back in the API's error shape, ``{"error": {"code",
"message"}}`` as JSON, from the dev template and from prod.conf alike, both running for real:
a malformed request (400), header fields too large (494, answered as 400), an over-long URI
(414), a body over the limit (413), a path nginx has no file for (404), a gateway that is down
(502 → 503) or does not answer in time (504 → 503)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatlens.shared.testing import unavailable

from .test_nginx_proxy import free_port, read_http_response, running_nginx

REQUESTS = {
    # HTTP/1.1 requires Host: nginx refuses the request itself.
    "no_host": (b"GET /api/v1/me HTTP/1.1\r\n\r\n", 400, "bad_request"),
    "huge_header": (
        b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n",
        400,
        "bad_request",
    ),
    "long_uri": (
        b"GET /api/v1/" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        414,
        "uri_too_long",
    ),
    "large_body": (
        b"POST /api/v1/collections HTTP/1.1\r\nHost: x\r\nContent-Length: "
        + str(300 * 1024 * 1024).encode()
        + b"\r\n\r\n",
        413,
        "body_too_large",
    ),
    "gateway_down": (b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\n\r\n", 503, "unavailable"),
}


def ask(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        response = read_http_response(sock)
    head, body = response.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def assert_api_error(answer, status: int, code: str) -> None:
    got, headers, body = answer
    assert got == status, body
    assert headers["content-type"] == "application/json"
    error = json.loads(body)["error"]
    assert error["code"] == code and error["message"]


@pytest.mark.parametrize("case", sorted(REQUESTS))
def test_the_dev_nginx_answers_its_own_refusals_in_the_error_shape(nginx, render, case):
    raw, status, code = REQUESTS[case]
    with running_nginx(nginx, render, f"127.0.0.1:{free_port()}", max_body="200m") as (port, _):
        assert_api_error(ask(port, raw), status, code)


@pytest.fixture(scope="module")
def prod_nginx(nginx, files, tmp_path_factory):
    """prod.conf as it ships, on a free port, with a gateway that is down and no web app."""
    if os.geteuid() != 0:
        unavailable("prod.conf runs as the image's root master (compiled-in paths): run as root")
    folder = tmp_path_factory.mktemp("prod-nginx")
    with running_prod_nginx(nginx, folder, files.nginx_prod.read_text(), free_port()) as port:
        yield port


@contextlib.contextmanager
def running_prod_nginx(nginx: str, folder: Path, text: str, upstream: int) -> Iterator[int]:
    """prod.conf's ``text`` run by the image's way (compiled-in paths, no ``-p``) on a free
    port, proxying to ``upstream`` on loopback, its web root and pid in ``folder``; yields the
    port once nginx listens."""
    folder.chmod(0o755)
    port = free_port()
    text = text.replace("listen 881;", f"listen 127.0.0.1:{port};")
    text = text.replace("server gateway:8100;", f"server 127.0.0.1:{upstream};")
    text = text.replace("root /srv/web;", f"root {folder / 'web'};")
    (folder / "nginx.conf").write_text(f"pid {folder}/nginx.pid;\n" + text)
    process = subprocess.Popen(
        [nginx, "-c", str(folder / "nginx.conf"), "-g", "daemon off;"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(port, process)
        yield port
    finally:
        process.terminate()
        process.wait(10)


def wait_for(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
                continue
        process.kill()
        raise AssertionError(f"nginx did not start: {process.communicate()[1]!r}")


@pytest.mark.parametrize("case", sorted(REQUESTS))
def test_prod_nginx_answers_its_own_refusals_in_the_error_shape(prod_nginx, case):
    raw, status, code = REQUESTS[case]
    assert_api_error(ask(prod_nginx, raw), status, code)


def test_prod_nginx_answers_a_missing_page_in_the_error_shape(prod_nginx):
    """No web app built (no index.html): try_files ends in nginx's own 404."""
    assert_api_error(
        ask(prod_nginx, b"GET /somewhere HTTP/1.1\r\nHost: x\r\n\r\n"), 404, "not_found"
    )


def test_both_configs_name_the_same_error_pages(files, render, tmp_path: Path):
    for text in (files.nginx_prod.read_text(), render(tmp_path)):
        for line in (
            "error_page 400 494 =400 @bad_request;",
            "error_page 414 /__chatlens/uri-too-long;",
            "error_page 404 @not_found;",
            "error_page 413 @too_large;",
            "error_page 502 504 =503 @unavailable;",
        ):
            assert line in text


@contextlib.contextmanager
def silent_upstream() -> Iterator[int]:
    """A gateway that takes the connection and never answers: nginx's read times out (504)."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as server:
        accepted: list[socket.socket] = []
        stop = threading.Event()

        def hold() -> None:
            server.settimeout(0.2)
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    accepted.append(server.accept()[0])

        thread = threading.Thread(target=hold, daemon=True)
        thread.start()
        try:
            yield server.getsockname()[1]
        finally:
            stop.set()
            thread.join(5)
            for connection in accepted:
                connection.close()


def shorter_wait(text: str) -> str:
    """The config with nginx's wait for the gateway's answer cut from 300 s to 1 s."""
    assert "proxy_read_timeout 300s;" in text
    return text.replace("proxy_read_timeout 300s;", "proxy_read_timeout 1s;")


def test_the_dev_nginx_answers_a_gateway_that_times_out_in_the_error_shape(nginx, render):
    with silent_upstream() as upstream:

        def render_short(*args, **kwargs):
            return shorter_wait(render(*args, **kwargs))

        with running_nginx(nginx, render_short, f"127.0.0.1:{upstream}") as (port, _):
            assert_api_error(ask(port, REQUESTS["gateway_down"][0]), 503, "unavailable")


def test_prod_nginx_answers_a_gateway_that_times_out_in_the_error_shape(
    nginx, files, tmp_path_factory
):
    if os.geteuid() != 0:
        unavailable("prod.conf runs as the image's root master (compiled-in paths): run as root")
    folder = tmp_path_factory.mktemp("prod-nginx-timeout")
    text = shorter_wait(files.nginx_prod.read_text())
    with silent_upstream() as upstream, running_prod_nginx(nginx, folder, text, upstream) as port:
        assert_api_error(ask(port, REQUESTS["gateway_down"][0]), 503, "unavailable")
