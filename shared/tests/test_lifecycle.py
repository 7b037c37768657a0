"""A worker service stops once, on SIGTERM or SIGINT, even one sent while it was starting."""

import os
import signal
import threading
import time

import pytest

from chatlens.shared.lifecycle import StopSignal


@pytest.fixture
def restore_handlers():
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_sent_before_waiting_is_not_lost(restore_handlers, signum):
    stopping = StopSignal("test")
    os.kill(os.getpid(), signum)  # during "start-up", before wait()
    started = time.monotonic()
    stopping.wait()
    assert stopping.is_set() and time.monotonic() - started < 2


def test_wait_returns_when_a_signal_arrives_later(restore_handlers):
    stopping = StopSignal("test")
    threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()
    stopping.wait()
    assert stopping.is_set()
