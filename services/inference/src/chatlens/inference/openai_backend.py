"""Generation by an org's OpenAI-compatible endpoint (vLLM, Ollama, llama.cpp's server, OpenAI,
Azure, another Chatlens), through the ``openai`` client library.

The client does the HTTP: time-outs (``timeout_s`` per call), and retries with exponential
backoff on connection errors, 408, 409, 429 and 5xx (``max_retries``; a ``Retry-After`` header is
honoured). What still fails is a :class:`PermanentError` with one of the codes of
``schemas.PROVIDER_ERRORS``, so the gateway answers a 502 that says whose fault it is:

=============================  ==============================================================
provider_unreachable           no connection, or no answer within the time-out
provider_auth_failed           the provider refused the key (401, 403)
provider_model_not_found       the provider has no such model (404)
provider_rate_limited          still 429 after the retries
provider_failed                another status (5xx after the retries, 400, ...)
provider_bad_response          an answer that is not the API's (invalid JSON, broken SSE)
provider_secret_not_found      the org has no provider secret of the endpoint's name
endpoint_not_allowed           the URL's host resolves to a private, loopback or link-local
                               address (``chatlens.shared.egress``; ENDPOINT_ALLOW_PRIVATE
                               allows them), checked before each call and at each connection
=============================  ==============================================================

A stream is opened, and its first chunk read, before the handler returns, so a refusal is
raised while the gateway can still answer it with a status instead of an error event.
The key is never logged nor put in a message: it is scrubbed from the provider's error text.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

import openai

from chatlens.inference.batching import Sampling
from chatlens.inference.generation import Completion, chat_turns
from chatlens.inference.registry import PLATFORM
from chatlens.shared import egress, schemas
from chatlens.shared.bus import PermanentError

log = logging.getLogger(__name__)

KeyLookup = Callable[[str, str], str]  # (org_id, secret name) -> the key
GenerationStream = Generator[schemas.Message, None, schemas.Generated]
NO_KEY = "none"  # servers without keys (Ollama, a local vLLM) still get a bearer header
MAX_ERROR_CHARS = 500


class ProviderClient:
    """Calls an org endpoint; one ``openai.OpenAI`` client per call (a key may change)."""

    def __init__(
        self,
        keys: KeyLookup | None,
        *,
        timeout_s: float = 30.0,
        max_retries: int = 2,
        allow_private: bool = False,
        resolve: egress.Resolver | None = None,
        platform_keys: dict[str, str] | None = None,
    ) -> None:
        self.keys, self.timeout_s, self.max_retries = keys, timeout_s, max_retries
        # The registry's openai-compatible entries: their keys by environment variable name.
        self.platform_keys = platform_keys or {}
        # http:// is allowed: self-hosted servers (vLLM, Ollama) often speak nothing else.
        self.egress = egress.Policy(allow_private=allow_private, allow_http=True)
        self.resolve = resolve or socket.getaddrinfo

    # --- the calls ----------------------------------------------------------------------------

    def models(self, endpoint: schemas.ProviderEndpoint) -> list[str]:
        """The provider's model list: the cheapest call that proves the URL and the key."""
        key = self._key(endpoint)
        with self._client(endpoint, key) as client:
            try:
                return sorted(model.id for model in client.models.list())
            except Exception as exc:
                raise refusal(exc, endpoint, key, listing=True) from exc

    def open(
        self,
        endpoint: schemas.ProviderEndpoint,
        turns: list[dict[str, str]],
        max_new_tokens: int,
        sampling: Sampling,
    ) -> GenerationStream:
        """Start a streamed completion; refusals are raised here, before any reply."""
        key = self._key(endpoint)
        client = self._client(endpoint, key)
        try:
            stream = client.chat.completions.create(
                model=endpoint.model,
                messages=turns,
                max_tokens=max_new_tokens,
                stream=True,
                stream_options={"include_usage": True},
                **_sampling(sampling),
            )
            chunks = iter(stream)
            first = next(chunks, None)
        except Exception as exc:
            client.close()
            raise refusal(exc, endpoint, key) from exc
        return self._stream(endpoint, key, client, first, chunks)

    def complete(
        self,
        endpoint: schemas.ProviderEndpoint,
        prompt: str,
        system: str | None,
        max_new_tokens: int,
    ) -> Completion:
        """The whole completion of one prompt (a summary's step)."""
        started = time.perf_counter()
        stream = self.open(endpoint, chat_turns(prompt, system), max_new_tokens, Sampling())
        try:
            while True:
                next(stream)
        except StopIteration as end:
            done: schemas.Generated = end.value
        return Completion(
            done.model,
            done.text,
            done.tokens,
            time.perf_counter() - started,
            done.prompt_tokens,
            done.finish_reason,
        )

    # --- plumbing -----------------------------------------------------------------------------

    def _key(self, endpoint: schemas.ProviderEndpoint) -> str:
        if endpoint.secret is None:
            return NO_KEY
        if endpoint.org_id == PLATFORM:  # the registry's entry: the operator's key
            try:
                return self.platform_keys[endpoint.secret]
            except KeyError:
                raise PermanentError(
                    f"{endpoint.name}: {endpoint.secret} was not set at start",
                    code="provider_secret_not_found",
                ) from None
        if self.keys is None:
            raise PermanentError(
                "this inference service reads no provider secrets (AUTH_URL "
                "and INTERNAL_TOKEN unset)",
                code="provider_secret_not_found",
            )
        return self.keys(endpoint.org_id, endpoint.secret)

    def _client(self, endpoint: schemas.ProviderEndpoint, key: str) -> openai.OpenAI:
        """A client for one call; its connections go only where the egress policy allows, the
        URL checked first so that a refusal is not retried."""
        try:
            egress.check(endpoint.base_url, self.egress, self.resolve)
        except egress.Unresolvable as exc:
            raise PermanentError(
                f"{endpoint.name}: cannot reach {endpoint.base_url}: {exc}",
                code="provider_unreachable",
            ) from None
        except egress.RefusedUrl as exc:
            raise _not_allowed(endpoint, exc) from None
        return openai.OpenAI(
            base_url=endpoint.base_url,
            api_key=key,
            timeout=self.timeout_s,
            max_retries=self.max_retries,
            http_client=egress.guarded_client(self.egress, self.resolve),
        )

    def _stream(
        self,
        endpoint: schemas.ProviderEndpoint,
        key: str,
        client: openai.OpenAI,
        first: Any,
        chunks: Iterator[Any],
    ) -> GenerationStream:
        started = time.perf_counter()
        text, pieces, finish, usage = "", 0, None, None
        try:
            yield schemas.GenerationStarted(model=endpoint.name, prompt_tokens=0)
            chunk = first
            while chunk is not None:
                if getattr(chunk, "usage", None) is not None:
                    usage = chunk.usage
                for choice in chunk.choices or ():
                    piece = choice.delta.content if choice.delta is not None else None
                    if piece:
                        text, pieces = text + piece, pieces + 1
                        yield schemas.TokensGenerated(text=piece, tokens=1)
                    finish = choice.finish_reason or finish
                chunk = next(chunks, None)
        except GeneratorExit:
            raise
        except PermanentError:
            raise
        except Exception as exc:
            raise refusal(exc, endpoint, key) from exc
        finally:
            client.close()
        if finish is None and not text:
            raise PermanentError(
                f"{endpoint.name}: the provider's stream ended without an answer",
                code="provider_bad_response",
            )
        prompt_tokens = getattr(usage, "prompt_tokens", None) or 0
        tokens = getattr(usage, "completion_tokens", None) or pieces
        log.info(
            "generated by a provider",
            extra={
                "model": endpoint.name,
                "org_id": endpoint.org_id,
                "tokens": tokens,
                "prompt_tokens": prompt_tokens,
                "seconds": round(time.perf_counter() - started, 3),
            },
        )
        return schemas.Generated(
            model=endpoint.name,
            text=text.strip(),
            tokens=tokens,
            prompt_tokens=prompt_tokens,
            finish_reason="length" if finish == "length" else "stop",
        )


def _sampling(sampling: Sampling) -> dict[str, Any]:
    given: dict[str, Any] = {"temperature": sampling.temperature}
    if sampling.top_p < 1.0:
        given["top_p"] = sampling.top_p
    if sampling.seed is not None:
        given["seed"] = sampling.seed
    return given


def refusal(
    exc: BaseException, endpoint: schemas.ProviderEndpoint, key: str, listing: bool = False
) -> PermanentError:
    """The :class:`PermanentError` (with its code) for what the client raised."""
    if isinstance(exc, PermanentError):
        return exc
    refused = egress.refused_in(exc)  # the host re-resolved to a private address (rebinding)
    if refused is not None and not isinstance(refused, egress.Unresolvable):
        return _not_allowed(endpoint, refused)
    if isinstance(exc, openai.APIConnectionError):  # time-outs are connection errors too
        code, what = "provider_unreachable", f"cannot reach {endpoint.base_url}"
    elif isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        code, what = "provider_auth_failed", "the provider refused the key"
    elif isinstance(exc, openai.NotFoundError):
        code = "provider_model_not_found"
        what = (
            f"{endpoint.base_url} has no model list (is the base URL right?)"
            if listing
            else f"the provider has no model {endpoint.model!r}"
        )
    elif isinstance(exc, openai.RateLimitError):
        code, what = "provider_rate_limited", "the provider is rate-limiting this key"
    elif isinstance(exc, openai.APIStatusError):
        code, what = "provider_failed", f"the provider answered {exc.status_code}"
    else:  # invalid JSON, a broken stream, a shape that is not the API's
        code, what = "provider_bad_response", "the provider's answer is not the API's"
    detail = str(exc).replace(key, "***") if key != NO_KEY else str(exc)
    return PermanentError(f"{endpoint.name}: {what}: {detail[:MAX_ERROR_CHARS]}", code=code)


def _not_allowed(endpoint: schemas.ProviderEndpoint, refused: egress.RefusedUrl) -> PermanentError:
    return PermanentError(
        f"{endpoint.name}: {endpoint.base_url} may not be called: {refused}",
        code="endpoint_not_allowed",
    )
