"""The commands that talk to a Chatlens server (login, upload) or read exports (parse)."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Mapping
from pathlib import Path

import requests

from chatlens.cli.client import ApiError, Client
from chatlens.cli.config import Credentials, config_dir
from chatlens.cli.parse import run_parse
from chatlens.cli.upload import UploadState, describe, follow_jobs, resolve_collection, upload_files

COMMANDS = ("login", "upload", "parse")
# The format names the gateway and the parsers accept (``auto`` detects).
FORMATS = ("auto", "whatsapp", "telegram", "slack", "discord", "chatgpt", "csv", "jsonl")


def _existing_file(value: str) -> Path:
    path = Path(value)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{value}: no such file")
    return path


def add_commands(sub: argparse._SubParsersAction) -> None:
    login = sub.add_parser("login", help="log in and keep the tokens in the config file")
    login.add_argument(
        "--url",
        help="the server (default: CHATLENS_URL, the last one used, or http://127.0.0.1:8080)",
    )
    login.add_argument("--email")
    login.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from stdin instead of prompting",
    )
    upload = sub.add_parser(
        "upload",
        help="upload chat exports to a collection and follow the "
        "jobs; run it again to resume an interrupted upload",
    )
    upload.add_argument("collection", help="the collection's id or name")
    upload.add_argument("files", nargs="+", type=_existing_file, metavar="FILE")
    upload.add_argument("--format", default="auto", choices=FORMATS)
    upload.add_argument("--timezone", help="IANA zone of the exports' local times")
    upload.add_argument("--create", action="store_true", help="create the collection if missing")
    upload.add_argument("--no-wait", action="store_true", help="do not follow the jobs")
    upload.add_argument(
        "--retry-failed", action="store_true", help="upload again files whose earlier job failed"
    )
    parse = sub.add_parser(
        "parse",
        help="print the messages an import of the files would read "
        "(JSON lines, each once) and the diagnostics (stderr)",
    )
    parse.add_argument("files", nargs="+", type=_existing_file, metavar="FILE")
    parse.add_argument("--format", default="auto", choices=FORMATS)
    parse.add_argument("--timezone", help="IANA zone of the export's local times")


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    if args.command == "parse":
        return run_parse(args.files, args.format, args.timezone)
    credentials = Credentials.load(environ)
    try:
        if args.command == "login":
            return _login(args, credentials, environ)
        return _upload(args, credentials, environ)
    except ApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except requests.ConnectionError as exc:
        print(f"error: cannot reach {credentials.url}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume", file=sys.stderr)
        return 130


def _login(args, credentials: Credentials, environ: Mapping[str, str]) -> int:
    credentials = Credentials(
        url=args.url or credentials.url, path=config_dir(environ) / "config.json"
    )
    email = args.email or input("email: ")
    password = (
        sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("password: ")
    )
    Client(credentials.url, on_tokens=credentials.save).login(email, password)
    print(f"logged in to {credentials.url} as {email} (tokens in {credentials.path})")
    return 0


def _upload(args, credentials: Credentials, environ: Mapping[str, str]) -> int:
    if not credentials.access_token:
        print("error: not logged in: run `chatlens login` or set CHATLENS_TOKEN", file=sys.stderr)
        return 1
    client = Client(
        credentials.url,
        credentials.access_token,
        refresh_token=credentials.refresh_token,
        on_tokens=credentials.save,
    )
    collection = resolve_collection(client, args.collection, create=args.create)
    state = UploadState(config_dir(environ) / "uploads.json")
    outcomes = upload_files(
        client,
        collection["id"],
        args.files,
        state,
        fmt=args.format,
        timezone=args.timezone,
        retry_failed=args.retry_failed,
    )
    ok = all(o.error is None for o in outcomes)
    if args.no_wait:
        return 0 if ok else 1
    final = follow_jobs(client, outcomes)
    for outcome in outcomes:
        if outcome.job_id:
            job = final[outcome.job_id]
            ok = ok and job["status"] == "succeeded"
            print(f"{outcome.path.name}: {describe(job)}")
        else:
            print(f"{outcome.path.name}: refused ({outcome.error})")
    return 0 if ok else 1
