"""Webhook rules without a server: the signature a receiver checks, the backoff between
attempts, and which URLs may be called (SSRF: names and IP forms that mean a private address)."""

import ipaddress
import socket
import time

import pytest

from chatlens.gateway.webhooks import signing
from chatlens.gateway.webhooks.dispatcher import DispatchSettings, backoff_s
from chatlens.shared import egress as addresses

SECRET = "whsec_test-secret"
BODY = b'{"id":"d1","type":"job.succeeded","data":{}}'
STRICT = addresses.Policy()


def test_a_signature_verifies_over_timestamp_and_body_and_nothing_else():
    now = int(time.time())
    value = signing.header(SECRET, now, BODY)
    assert value.startswith(f"t={now},v1=")
    assert signing.verify(SECRET, value, BODY)
    assert not signing.verify("whsec_other", value, BODY)
    assert not signing.verify(SECRET, value, BODY + b" ")
    moved = value.replace(f"t={now}", f"t={now + 1}")  # the timestamp is signed too
    assert not signing.verify(SECRET, moved, BODY)
    assert not signing.verify(SECRET, "v1=abc", BODY)


def test_an_old_signature_is_refused_as_a_replay():
    then = int(time.time()) - 3600
    assert not signing.verify(SECRET, signing.header(SECRET, then, BODY), BODY)
    assert signing.verify(SECRET, signing.header(SECRET, then, BODY), BODY, tolerance_s=7200)


def test_the_signature_is_hmac_sha256_of_t_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert signing.header(SECRET, 1700000000, BODY) == f"t=1700000000,v1={expected}"


def test_secrets_are_long_and_never_repeat():
    made = {signing.new_secret() for _ in range(50)}
    assert len(made) == 50 and all(s.startswith("whsec_") and len(s) > 40 for s in made)


def test_backoff_doubles_with_jitter_up_to_the_cap():
    settings = DispatchSettings(backoff_s=10, backoff_max_s=300)
    for attempt, base in ((1, 10), (2, 20), (3, 40), (4, 80)):
        waits = [backoff_s(settings, attempt) for _ in range(200)]
        assert all(base <= w <= base + 10 for w in waits), (attempt, min(waits), max(waits))
        assert max(waits) - min(waits) > 2  # jittered, so retries of many hooks spread out
    assert all(backoff_s(settings, 20) == 300 for _ in range(20))


def fake_resolver(answers):
    def resolve(host, port, type=0):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, type, 6, "", (a, port))
            for a in answers[host]
        ]

    return resolve


@pytest.mark.parametrize(
    "answers",
    [
        ["10.0.0.5"],
        ["192.168.1.1"],
        ["172.16.3.4"],
        ["127.0.0.1"],
        ["169.254.169.254"],
        ["100.64.0.1"],
        ["0.0.0.0"],
        ["224.0.0.1"],
        ["::1"],
        ["fe80::1%eth0"],
        ["fc00::1"],
        ["::ffff:127.0.0.1"],
        ["2002:7f00:1::1"],
        ["93.184.216.34", "10.0.0.1"],  # one private address among public ones is enough
    ],
)
def test_a_name_resolving_to_a_non_public_address_is_refused(answers):
    resolve = fake_resolver({"hooks.example.com": answers})
    with pytest.raises(addresses.RefusedUrl, match="non-public"):
        addresses.check("https://hooks.example.com/in", STRICT, resolve)


def test_a_name_resolving_to_public_addresses_is_allowed():
    resolve = fake_resolver({"hooks.example.com": ["93.184.216.34", "2606:2800:220:1::1"]})
    addresses.check("https://hooks.example.com:8443/in?x=1", STRICT, resolve)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/",
        "https://2130706433/",
        "https://0x7f000001/",
        "https://0177.0.0.1/",
        "https://0x7f.1/",
        "https://127.1/",
        "https://[::1]/",
        "https://[::ffff:7f00:1]/",
        "https://[fe80::1]/",
        "https://localhost/",
        "https://169.254.169.254/latest/meta-data",
        "https://0/",
    ],
)
def test_literal_addresses_in_any_form_are_judged_by_what_they_mean(url):
    with pytest.raises(addresses.RefusedUrl):
        addresses.check(url, STRICT)  # the real resolver: numeric forms need no DNS


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://93.184.216.34/", "https://"),
        ("ftp://93.184.216.34/", "https://"),
        ("https:///nohost", "no host"),
        ("https://user:pw@93.184.216.34/", "credentials"),
        ("https://93.184.216.34:99999/", "not a valid URL"),
        ("not a url", "https://"),
    ],
)
def test_malformed_or_plain_http_urls_are_refused(url, message):
    with pytest.raises(addresses.RefusedUrl, match=message):
        addresses.check(url, STRICT, fake_resolver({}))


def test_an_unknown_host_is_refused_as_unresolvable():
    with pytest.raises(addresses.Unresolvable):
        addresses.check("https://nowhere.invalid/", STRICT, fake_resolver({}))


def test_the_operator_settings_allow_http_and_private_addresses():
    addresses.check("http://127.0.0.1:9/in", addresses.Policy(allow_private=True, allow_http=True))
    with pytest.raises(addresses.RefusedUrl, match="non-public"):
        addresses.check("http://127.0.0.1:9/in", addresses.Policy(allow_http=True))
    with pytest.raises(addresses.RefusedUrl, match="https"):
        addresses.check("http://127.0.0.1:9/in", addresses.Policy(allow_private=True))


def test_public_means_globally_routable_unicast():
    assert addresses.is_public(ipaddress.ip_address("8.8.8.8"))
    assert not addresses.is_public(ipaddress.ip_address("198.18.0.1"))  # benchmarking range
    assert not addresses.is_public(ipaddress.ip_address("::ffff:10.1.2.3"))
