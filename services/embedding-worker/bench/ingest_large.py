"""A large import end to end through the whole stack: generated WhatsApp export → nginx →
gateway → RabbitMQ → embedding worker (Dask) → index, timed from upload to ``succeeded``.

    python services/embedding-worker/bench/ingest_large.py --messages 100000 [--port 26100]

Prints messages per second, the peak memory (VmHWM) of the worker and the index, and writes
``var/bench/ingest-large.json``. Not part of ``make bench``: it runs for minutes, and on a shared
2-core machine its figures vary a lot between runs (say so when quoting them).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("CHATLENS_E2E_PORT", "18100")),
        help="base port of the bench stack (nginx on port - 20)",
    )
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # Stopped with SIGTERM (or SIGINT, which a background job ignores): still take the stack down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    from chatlens.cli.client import Client
    from chatlens.cli.stack import Stack, StackConfig, nginx_binary
    from chatlens.shared.testing import throwaway_vhost

    out = ROOT / "var" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    export = out / f"WhatsApp Chat with Large {args.messages}.txt"
    if not export.exists():
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "gen_whatsapp.py"),
                str(args.messages),
                str(export),
                "--seed",
                "42",
            ],
            check=True,
        )
    size_mib = export.stat().st_size / 2**20

    state = out / f"stack-{uuid.uuid4().hex[:6]}"  # kept when the import fails: its logs
    with throwaway_vhost("bench") as amqp_url:
        stack = Stack(
            StackConfig(
                root=ROOT,
                state=state,
                amqp_url=amqp_url,
                base_port=args.port,
                nginx_port=args.port - 20,
            )
        )
        try:
            print("starting the stack …", flush=True)
            stack.up(wait_s=600)
            url = stack.config.nginx_url if nginx_binary() else stack.config.gateway_url
            client = Client(url)
            email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
            client.register(email, "bench-password-long-enough")
            client.login(email, "bench-password-long-enough")
            collection = client.create_collection("large import")
            print(f"importing {export.name} ({size_mib:.1f} MiB) …", flush=True)
            started = time.perf_counter()
            [job] = client.upload(collection["id"], [export])
            final = _wait(client, job["id"])
            seconds = time.perf_counter() - started
            peaks = {name: _peak_mib(stack.pid(name)) for name in ("embedding-worker", "index")}
        finally:
            stack.down()
    if final["status"] != "succeeded":
        raise SystemExit(f"the import failed: {final['error']} (logs in {state / 'logs'})")
    shutil.rmtree(state, ignore_errors=True)
    stats = final["stats"]
    result = {
        "file_mib": round(size_mib, 1),
        "messages": stats.get("messages"),
        "embedded": stats.get("embedded"),
        "seconds": round(seconds, 1),
        "messages_per_s": round(stats["messages"] / seconds, 1),
        "embedded_per_s": round(stats.get("embedded", 0) / seconds, 1),
        "peak_rss_mib": peaks,
    }
    (out / "ingest-large.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


def _wait(client, job_id: str) -> dict:
    """The job once it is over, polled (a busy machine can stall an event stream's start)."""
    while True:
        time.sleep(2)
        try:
            job = client.job(job_id)
        except OSError:  # requests' timeouts and connection errors
            continue
        if job["status"] in ("succeeded", "failed"):
            return job


def _peak_mib(pid: int | None) -> float | None:
    """The process's peak resident memory (Linux ``VmHWM``), or None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, TypeError, ValueError):
        return None
    return None


if __name__ == "__main__":
    main()
