"""``python -m chatlens.cli.supervise --name NAME --pid-file PATH -- COMMAND…``: keep one service
of the local stack running, the way compose's ``restart: unless-stopped`` and Kubernetes do for
the other two scales.

The supervisor starts COMMAND, writes its pid to PATH and waits. When the service exits (a crash,
a SIGKILL, an out-of-memory kill) it logs why and starts it again after a backoff that doubles
from ``--backoff`` up to ``--max-backoff``; after ``--max-crashes`` exits in a row, each within
``--stable-s`` of its start, it gives up loudly: an ERROR line in the service's log, a file
beside PATH with the suffix ``.failed`` saying why (``chatlens status`` shows it), and exit
status 1. A service that ran longer than ``--stable-s`` starts the count again. SIGTERM or
SIGINT (``chatlens down``) stops the service and the supervisor, with no restart. The
supervisor's own lines go to the same log as the service's, as JSON lines.
"""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

from chatlens.shared.logs import configure_logging

log = logging.getLogger("chatlens.cli.supervise")
STOP_GRACE_S = 20.0


def describe(returncode: int) -> str:
    """How a process ended, in words: "exit status 3" or "signal SIGKILL"."""
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit status {returncode}"


class Supervisor:
    def __init__(
        self,
        name: str,
        command: list[str],
        pid_file: Path,
        *,
        backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        max_crashes: int = 5,
        stable_s: float = 60.0,
    ) -> None:
        self.name, self.command, self.pid_file = name, command, pid_file
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self.max_crashes, self.stable_s = max_crashes, stable_s
        self.failed_file = pid_file.with_suffix(".failed")
        self.stopping = False
        self.child: subprocess.Popen | None = None

    def stop(self, signum: int, _frame=None) -> None:
        """Stop for good: pass the signal on to the service, restart nothing."""
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signum)

    def run(self) -> int:
        self.failed_file.unlink(missing_ok=True)
        crashes = 0
        while not self.stopping:
            started = time.monotonic()
            self.child = subprocess.Popen(self.command)
            self.pid_file.write_text(str(self.child.pid))
            log.info("service started", extra={"supervised": self.name, "pid": self.child.pid})
            returncode = self._wait()
            if self.stopping:
                break
            ran_s = time.monotonic() - started
            crashes = 1 if ran_s >= self.stable_s else crashes + 1
            why = f"{self.name} exited ({describe(returncode)}) after {ran_s:.1f} s"
            if crashes >= self.max_crashes:
                reason = (
                    f"{why}; gave up after {crashes} crashes in a row, each within "
                    f"{self.stable_s:.0f} s of its start"
                )
                log.error(
                    "service keeps crashing; not restarted",
                    extra={"supervised": self.name, "reason": reason},
                )
                self.failed_file.write_text(reason + "\n")
                return 1
            delay = min(self.max_backoff_s, self.backoff_s * 2 ** (crashes - 1))
            log.warning(
                "service exited; restarting",
                extra={
                    "supervised": self.name,
                    "reason": why,
                    "crashes": crashes,
                    "restart_in_s": delay,
                },
            )
            if self._sleep(delay):
                break
        log.info("service stopped", extra={"supervised": self.name})
        return 0

    def _wait(self) -> int:
        assert self.child is not None
        while True:
            try:
                return self.child.wait(timeout=STOP_GRACE_S if self.stopping else None)
            except subprocess.TimeoutExpired:  # asked to stop and ignoring it: end it
                self.child.kill()

    def _sleep(self, seconds: float) -> bool:
        """Wait before a restart; True if asked to stop meanwhile."""
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(0.1, deadline - time.monotonic()))
        return self.stopping


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chatlens.cli.supervise", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--name", required=True)
    parser.add_argument(
        "--pid-file", type=Path, required=True, help="where the service's own pid is written"
    )
    parser.add_argument("--backoff", type=float, default=1.0)
    parser.add_argument("--max-backoff", type=float, default=30.0)
    parser.add_argument("--max-crashes", type=int, default=5)
    parser.add_argument("--stable-s", type=float, default=60.0)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to supervise")
    configure_logging("supervisor")
    supervisor = Supervisor(
        args.name,
        command,
        args.pid_file,
        backoff_s=args.backoff,
        max_backoff_s=args.max_backoff,
        max_crashes=args.max_crashes,
        stable_s=args.stable_s,
    )
    signal.signal(signal.SIGTERM, supervisor.stop)
    signal.signal(signal.SIGINT, supervisor.stop)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
