"""Where a user-given URL may be called (chatlens.shared.egress): public hosts only unless the
operator allows private ones, and the connection made to an address that was checked."""

from __future__ import annotations

import http.server
import ipaddress
import socket
import threading

import pytest

from chatlens.shared import egress

STRICT = egress.Policy(allow_http=True)


def resolver(*addresses: str):
    def resolve(host, port, **kwargs):
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    return resolve


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "2002:7f00:1::1",
        "224.0.0.1",
    ],
)
def test_a_host_resolving_to_a_non_public_address_is_refused(address):
    with pytest.raises(egress.RefusedUrl, match="non-public address"):
        egress.check("https://llm.example.com/v1", STRICT, resolver("93.184.216.34", address))


def test_integer_and_hex_forms_of_loopback_are_judged_by_what_they_mean():
    for url in ("http://2130706433/v1", "http://0x7f.1/v1", "http://127.1/v1"):
        with pytest.raises(egress.RefusedUrl, match="127.0.0.1"):
            egress.check(url, STRICT)  # the real resolver reads them as the C library does


def test_a_public_host_passes_and_an_allowed_operator_setting_skips_resolution():
    egress.check("https://llm.example.com/v1", STRICT, resolver("93.184.216.34"))
    egress.check(
        "http://127.0.0.1:8000/v1", egress.Policy(allow_private=True, allow_http=True), resolver()
    )  # never asked: it would say nothing resolves


def test_bad_forms_are_refused():
    for url, why in (
        ("ftp://llm.example.com", "https"),
        ("https://", "no host"),
        ("https://u:p@llm.example.com", "credentials"),
        ("https://llm.example.com:99999", "valid URL"),
    ):
        with pytest.raises(egress.RefusedUrl, match=why):
            egress.check(url, STRICT, resolver("93.184.216.34"))
    with pytest.raises(egress.RefusedUrl, match="http://"):
        egress.check("http://llm.example.com", egress.Policy(), resolver("93.184.216.34"))
    with pytest.raises(egress.Unresolvable):
        egress.check("https://llm.example.com", STRICT, resolver())


@pytest.fixture
def server():
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            seen.append(self.headers["Host"])
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_port, seen
    httpd.shutdown()


def test_the_guarded_client_connects_to_the_checked_address_under_the_hosts_name(
    server, monkeypatch
):
    port, seen = server
    # Loopback stands in for a public address here: the test cannot reach the internet.
    monkeypatch.setattr(
        egress, "is_public", lambda address: address == ipaddress.ip_address("127.0.0.1")
    )
    with egress.guarded_client(STRICT, resolver("127.0.0.1")) as client:
        assert client.get(f"http://llm.example:{port}/").text == "ok"
    assert seen == [f"llm.example:{port}"]


def test_the_guarded_client_refuses_a_connection_to_a_private_address(server):
    port, seen = server
    with egress.guarded_client(STRICT, resolver("127.0.0.1")) as client:
        with pytest.raises(egress.RefusedUrl) as refused:
            client.get(f"http://llm.example:{port}/")
    assert egress.refused_in(refused.value) is refused.value
    assert seen == []
