"""``chatlens`` (or ``python -m chatlens.cli``): a client of the API, the local stack, the demo.

    chatlens login [--url URL] [--email EMAIL]        log in; the tokens go to the config file
    chatlens upload COLLECTION FILE…                  upload exports (resumable), follow the jobs
    chatlens parse FILE… [--format F] [--timezone TZ] print what an import of the files reads
    chatlens up | down | status | logs [SERVICE]     run the stack as local processes
    chatlens demo                                     up, then ingest the sample and search it
    chatlens backup ARCHIVE | restore ARCHIVE         databases, index repositories and uploads
    chatlens rotate-secret-keys [--drop-old]          the stack's stored secrets under new keys

The server and tokens come from ``CHATLENS_URL`` / ``CHATLENS_TOKEN`` when set, else from the
config file that ``chatlens login`` writes (``$CHATLENS_CONFIG_DIR`` or ~/.config/chatlens).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from chatlens.cli import api, backup_commands
from chatlens.cli.stack import SERVICES, Stack, StackConfig, StackError


def stack_from_env(root: Path) -> Stack:
    config = StackConfig(
        root=root,
        state=Path(os.environ.get("CHATLENS_STATE", root / "var" / "stack")).resolve(),
        amqp_url=os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
        base_port=int(os.environ.get("CHATLENS_BASE_PORT", "8100")),
        nginx_port=int(os.environ.get("CHATLENS_NGINX_PORT", "8080")),
        database_url=os.environ.get("DATABASE_URL", ""),
        index_replicas=int(os.environ.get("INDEX_REPLICAS", "1")),
    )
    return Stack(config)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="chatlens", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the repository folder")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start every service (and nginx when installed)")
    sub.add_parser("down", help="stop the stack")
    sub.add_parser("status", help="which services run")
    logs = sub.add_parser("logs", help="print the last lines of the logs")
    logs.add_argument(
        "service",
        nargs="?",
        help=f"one of {', '.join(SERVICES)}, nginx, or an index replica "
        f"(index-1 …, with INDEX_REPLICAS); all when left out",
    )
    logs.add_argument("-n", type=int, default=40)
    demo = sub.add_parser("demo", help="start the stack, ingest the sample, search it, ask it")
    demo.add_argument("--query", default="when is the team trip to Portugal?")
    demo.add_argument("--sample", type=Path, default=Path("samples/whatsapp-demo.txt"))
    rotate = sub.add_parser(
        "rotate-secret-keys",
        help="re-encrypt the local stack's provider, TOTP and webhook secrets under new Fernet "
        "keys (auth's admin rotate-secrets-key, then the gateway's rotate-webhook-key)",
    )
    rotate.add_argument(
        "--drop-old", action="store_true", help="remove the old keys once all is re-encrypted"
    )
    api.add_commands(sub)
    backup_commands.add_commands(sub)
    args = parser.parse_args(argv)

    if args.command in api.COMMANDS:
        return api.run(args, os.environ)
    if args.command in backup_commands.COMMANDS:
        return backup_commands.run(args, os.environ)
    stack = stack_from_env(args.root.resolve())
    try:
        if args.command == "up":
            _up(stack)
        elif args.command == "down":
            stack.down()
            print("stack stopped")
        elif args.command == "status":
            for name in (*stack.config.service_processes, "nginx"):
                failure = stack.failure(name)
                state = (
                    "running"
                    if stack.running(name)
                    else f"failed: {failure}"
                    if failure
                    else "stopped"
                )
                print(f"{name:18} {state}")
        elif args.command == "logs":
            names = [*stack.config.service_processes, "nginx"]
            if args.service and args.service not in names:
                print(
                    f"error: no service {args.service!r} in this stack (one of {', '.join(names)})",
                    file=sys.stderr,
                )
                return 2
            for name in [args.service] if args.service else names:
                print(f"==> {name} <==\n{stack.tail(name, args.n)}\n")
        elif args.command == "rotate-secret-keys":
            return _rotate_secret_keys(stack, args.drop_old)
        elif args.command == "demo":
            from chatlens.cli.demo import run_demo

            _up(stack)
            run_demo(stack, args.root / args.sample, args.query)
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _up(stack: Stack) -> None:
    print(f"starting the stack (state in {stack.config.state}); the first start loads the models…")
    started = time.monotonic()
    stack.up()
    print(f"stack ready in {time.monotonic() - started:.0f}s")


def _rotate_secret_keys(stack: Stack, drop_old: bool) -> int:
    """Each service's own command, with the environment the stack runs it in (its data folder,
    database and key files); the running services pick the new keys up from their files."""
    extra = ["--drop-old"] if drop_old else []
    steps = {
        "auth": [*stack.command("auth"), "admin", "rotate-secrets-key", *extra],
        "gateway": [*stack.command("gateway"), "rotate-webhook-key", *extra],
    }
    for name, command in steps.items():
        done = subprocess.run(
            command, env=stack.env(name), capture_output=True, text=True, timeout=600
        )
        print(f"{name}: {done.stdout.strip()}")
        if done.returncode:
            print(f"error: {name}: {done.stderr.strip()}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
