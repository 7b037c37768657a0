"""One loopback address per simulated person, so per-address limits apply as in production.

Linux routes the whole of 127.0.0.0/8 to the loopback interface, so a client may bind its
connections to 127.0.1.N and the server (nginx's ``$remote_addr``, then the gateway through
``ProxyFix``) sees that address. ``bench/load_bench.py`` prepares member N's account from
:func:`address` N and the locust user that plays member N connects from the same one
(``bench/locustfile.py``). 127.0.0.1, the owner's and the orchestrator's, is never handed out.
"""

from __future__ import annotations

import ipaddress

import requests
from requests.adapters import HTTPAdapter

FIRST = ipaddress.IPv4Address("127.0.1.0")
LAST = ipaddress.IPv4Address("127.255.255.254")


def address(n: int) -> str:
    """The loopback address of person ``n`` (0, 1, ...): 127.0.1.0, 127.0.1.1, ..."""
    chosen = FIRST + n
    if n < 0 or chosen > LAST:
        raise ValueError(f"no loopback address for person {n}")
    return str(chosen)


class _BoundAdapter(HTTPAdapter):
    def __init__(self, source: str) -> None:
        self._source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        kwargs["source_address"] = (self._source, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(source: str) -> requests.Session:
    """A requests session whose every connection leaves from ``source``."""
    session = requests.Session()
    session.trust_env = False
    adapter = _BoundAdapter(source)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
