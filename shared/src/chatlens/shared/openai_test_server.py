"""A small OpenAI-compatible HTTP server for tests: a real process on a real port that speaks
``GET /v1/models`` and ``POST /v1/chat/completions`` (streamed and not), with the failures a
provider has. Run as ``python -m chatlens.shared.openai_test_server --port 0 --key KEY``; it
prints ``PORT <n>`` once it listens. :func:`serve` starts one for a test.

Models it has (``--key`` must come as the bearer token, else 401 with OpenAI's error body):

    echo              answers "Answer from echo: <the first words of the last user turn>"
    garbage-sse       a 200 event stream whose data is not JSON (or a body that is not JSON)
    garbage-late      one good chunk, then data that is not JSON
    rate-limited-once 429 (Retry-After: 0) to its first request, then answers like echo
    always-500        500 to every request
    hangs             answers like echo, after HANG_S seconds of silence

Any other model name is a 404 ``model_not_found``. ``GET /stats`` counts the completion
requests per model (how tests see the client's retries).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

MODELS = ("echo", "garbage-sse", "garbage-late", "rate-limited-once", "always-500", "hangs")
HANG_S = 5.0
ANSWER_WORDS = 12


def _error(
    status: int,
    message: str,
    code: str,
    kind: str = "invalid_request_error",
    headers: dict[str, str] | None = None,
) -> Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return Response(json.dumps(body), status, headers or {}, mimetype="application/json")


class Provider:
    def __init__(self, key: str) -> None:
        self.key = key
        self.requests: Counter[str] = Counter()
        self.lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        return self.route(Request(environ))(environ, start_response)

    def route(self, request: Request) -> Response:
        if request.path == "/stats":
            with self.lock:
                return Response(
                    json.dumps({"requests": dict(self.requests)}), mimetype="application/json"
                )
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return _error(401, "Incorrect API key provided", "invalid_api_key")
        if request.path == "/v1/models" and request.method == "GET":
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "test"} for m in MODELS]
            return Response(
                json.dumps({"object": "list", "data": data}), mimetype="application/json"
            )
        if request.path == "/v1/chat/completions" and request.method == "POST":
            return self.complete(request.get_json())
        return _error(404, f"no route {request.path}", "not_found")

    def complete(self, body: dict[str, Any]) -> Response:
        model = body.get("model")
        with self.lock:
            self.requests[str(model)] += 1
            count = self.requests[str(model)]
        if model not in MODELS:
            return _error(404, f"The model `{model}` does not exist.", "model_not_found")
        if model == "hangs":
            time.sleep(HANG_S)
        if model == "always-500":
            return _error(500, "The server had an error", "server_error", "server_error")
        if model == "rate-limited-once" and count == 1:
            return _error(
                429, "Rate limit reached", "rate_limit_exceeded", "requests", {"Retry-After": "0"}
            )
        stream = bool(body.get("stream"))
        if model == "garbage-sse":
            if stream:
                return Response("data: {this is not json\n\n", mimetype="text/event-stream")
            return Response("<html>not json</html>", mimetype="application/json")
        last = next(
            (
                t.get("content", "")
                for t in reversed(body.get("messages", []))
                if t.get("role") == "user"
            ),
            "",
        )
        words = last.split()[:ANSWER_WORDS]
        limit = int(body.get("max_tokens") or body.get("max_completion_tokens") or 1024)
        answer = ["Answer", "from", "echo:", *words][:limit]
        finish = "length" if len(answer) == limit and limit < 3 + len(words) else "stop"
        usage = {
            "prompt_tokens": sum(
                len(str(t.get("content", "")).split()) for t in body.get("messages", [])
            ),
            "completion_tokens": len(answer),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        if not stream:
            return Response(
                json.dumps(
                    {
                        "id": ident,
                        "object": "chat.completion",
                        "created": created,
                        "model": model,
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": finish,
                                "message": {"role": "assistant", "content": " ".join(answer)},
                            }
                        ],
                        "usage": usage,
                    }
                ),
                mimetype="application/json",
            )
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return Response(
            self._events(ident, created, model, answer, finish, usage if include_usage else None),
            mimetype="text/event-stream",
        )

    @staticmethod
    def _events(
        ident: str,
        created: int,
        model: str,
        answer: list[str],
        finish: str,
        usage: dict[str, int] | None,
    ) -> Iterator[str]:
        def chunk(delta: dict[str, str], finish_reason: str | None = None) -> str:
            return (
                "data: "
                + json.dumps(
                    {
                        "id": ident,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": model,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
                    }
                )
                + "\n\n"
            )

        yield chunk({"role": "assistant", "content": ""})
        for i, word in enumerate(answer):
            yield chunk({"content": word if i == 0 else " " + word})
            if model == "garbage-late":
                yield "data: {broken\n\n"
                return
        yield chunk({}, finish)
        if usage is not None:
            yield (
                "data: "
                + json.dumps(
                    {
                        "id": ident,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": model,
                        "choices": [],
                        "usage": usage,
                    }
                )
                + "\n\n"
            )
        yield "data: [DONE]\n\n"


@contextmanager
def serve(key: str) -> Iterator[str]:
    """Start the server as a process; yields its base URL (``http://127.0.0.1:<port>/v1``)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "chatlens.shared.openai_test_server", "--port", "0", "--key", key],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line.startswith("PORT "):
            raise RuntimeError(f"the OpenAI test server did not start: {line!r}")
        yield f"http://127.0.0.1:{int(line.split()[1])}/v1"
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--key", required=True)
    args = parser.parse_args()
    server = make_server("127.0.0.1", args.port, Provider(args.key), threaded=True)
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
