"""The local stack heals itself (issue 15.10): a supervisor restarts a dead service with backoff,
gives up loudly after repeated crashes, and stops for good when asked to."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from chatlens.cli.stack import Stack, StackConfig
from chatlens.shared.testing import require_server, throwaway_vhost

ROOT = Path(__file__).resolve().parents[2]


def supervise(tmp_path: Path, *command: str, **options: str) -> subprocess.Popen:
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in options.items()]
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chatlens.cli.supervise",
            "--name",
            "svc",
            "--pid-file",
            str(tmp_path / "svc.service.pid"),
            *flags,
            "--",
            *command,
        ],
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(check, timeout_s: float = 30.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def child_pid(tmp_path: Path) -> int | None:
    try:
        return int((tmp_path / "svc.service.pid").read_text())
    except (FileNotFoundError, ValueError):
        return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_service_that_keeps_crashing_is_given_up_loudly_with_its_reason(tmp_path):
    supervisor = supervise(
        tmp_path,
        sys.executable,
        "-c",
        "import sys; sys.exit(3)",
        backoff="0.05",
        max_crashes="3",
        stable_s="30",
    )

    _, stderr = supervisor.communicate(timeout=30)

    assert supervisor.returncode == 1
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert [(r["level"], r["message"]) for r in lines if r["message"] != "service started"] == [
        ("WARNING", "service exited; restarting"),
        ("WARNING", "service exited; restarting"),
        ("ERROR", "service keeps crashing; not restarted"),
    ]
    assert [r["restart_in_s"] for r in lines if "restart_in_s" in r] == [0.05, 0.1]  # doubling
    reason = (tmp_path / "svc.service.failed").read_text()
    assert "exit status 3" in reason and "gave up after 3 crashes" in reason


def test_a_killed_service_is_restarted_and_a_stop_is_final(tmp_path):
    supervisor = supervise(
        tmp_path, sys.executable, "-c", "import time; time.sleep(120)", backoff="0.1"
    )
    try:
        first = wait_for(lambda: child_pid(tmp_path))
        os.kill(first, signal.SIGKILL)
        second = wait_for(lambda: (pid := child_pid(tmp_path)) != first and pid)

        assert alive(second) and supervisor.poll() is None
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=30) == 0
        assert not alive(second)
        assert child_pid(tmp_path) == second  # nothing started after the stop
    finally:
        supervisor.kill()
    stderr = supervisor.stderr.read()
    assert "signal SIGKILL" in stderr and "service stopped" in stderr


def test_the_index_of_a_running_stack_comes_back_after_a_sigkill_and_answers(tmp_path):
    require_server("127.0.0.1", 5672, "RabbitMQ")
    with throwaway_vhost("supervise") as amqp_url:
        stack = Stack(
            StackConfig(
                root=ROOT,
                state=tmp_path / "stack",
                amqp_url=amqp_url,
                base_port=random.randrange(21000, 29000, 20),
                nginx=False,
                services=("index",),
                restart_backoff_s=0.2,
            )
        )
        try:
            stack.up(wait_s=120)
            killed = stack.service_pid("index")
            url = stack.health_urls()["index"]

            stack.crash("index")

            restarted = wait_for(lambda: (pid := stack.service_pid("index")) != killed and pid)
            wait_for(lambda: _answers(url), timeout_s=120)
            assert stack.running("index") and alive(restarted) and not alive(killed)
            assert "signal SIGKILL" in stack.tail("index", 200)
        finally:
            stack.down()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False
