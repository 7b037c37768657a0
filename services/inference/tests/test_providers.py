"""Org endpoints: generation, summaries and the endpoint test through the ``openai`` client
against a real OpenAI-compatible server process (``chatlens.shared.openai_test_server``), and
every way a provider fails, each a refusal with its code."""

from __future__ import annotations

import json
import socket
import types
import urllib.request

import pytest

from chatlens.inference.batching import Sampling
from chatlens.inference.handlers import InferenceHandlers
from chatlens.inference.openai_backend import ProviderClient
from chatlens.inference.provider_keys import AuthKeys
from chatlens.inference.registry import Registry
from chatlens.shared import openai_test_server, schemas, topology
from chatlens.shared.bus import PermanentError, RpcError

from .test_rpc import OFFSITE, SYSTEM, wait_for

KEY = "sk-test-provider-key-0123456789"
ORG = "org-1"


@pytest.fixture(scope="module")
def provider_url():
    with openai_test_server.serve(KEY) as url:
        yield url


def keys(org_id: str, name: str) -> str:
    """The org's secrets as auth would reveal them (a dict: auth's own route is tested there)."""
    secrets = {(ORG, "good"): KEY, (ORG, "wrong"): "sk-not-the-key-0123456789"}
    try:
        return secrets[(org_id, name)]
    except KeyError:
        raise PermanentError(f"no secret {name}", code="provider_secret_not_found") from None


def endpoint(
    url: str, model: str = "echo", secret: str | None = "good", name: str = "team-llm"
) -> schemas.ProviderEndpoint:
    return schemas.ProviderEndpoint(name=name, org_id=ORG, base_url=url, model=model, secret=secret)


def handlers(retries: int = 2) -> InferenceHandlers:
    # The local cluster is never reached by a provider request (the bus test below uses the
    # real one, and shows the local model still answers).
    cluster = types.SimpleNamespace(timeout_s=10.0)
    return InferenceHandlers(
        Registry.load(),
        cluster,
        "SmolLM2-135M-Instruct",  # type: ignore[arg-type]
        providers=ProviderClient(keys, timeout_s=5, max_retries=retries, allow_private=True),
    )


def run(stream) -> tuple[list[schemas.Message], schemas.Generated]:
    pieces = []
    try:
        while True:
            pieces.append(next(stream))
    except StopIteration as end:
        return pieces, end.value


def refused(call) -> PermanentError:
    with pytest.raises(PermanentError) as failed:
        result = call()
        if hasattr(result, "__next__"):
            run(result)
    return failed.value


def stats(url: str) -> dict[str, int]:
    with urllib.request.urlopen(url.removesuffix("/v1") + "/stats") as response:
        return json.load(response)["requests"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_generation_streams_from_the_provider_with_its_usage(provider_url):
    request = schemas.GenerateRequested(
        prompt="Where is the offsite this year?",
        system=SYSTEM,
        provider=endpoint(provider_url),
        model="team-llm",
    )

    pieces, final = run(handlers().generate(request))

    started, *tokens = pieces
    assert isinstance(started, schemas.GenerationStarted) and started.model == "team-llm"
    assert len(tokens) > 3 and all(isinstance(t, schemas.TokensGenerated) for t in tokens)
    assert final.text == "Answer from echo: Where is the offsite this year?"
    assert "".join(t.text for t in tokens) == final.text
    assert final.model == "team-llm"
    assert final.tokens == 9 and final.prompt_tokens > 6  # the server's own usage counts


def test_max_new_tokens_reaches_the_provider_and_a_cut_answer_says_length(provider_url):
    request = schemas.GenerateRequested(
        prompt="one two three four five", max_new_tokens=4, provider=endpoint(provider_url)
    )

    _, final = run(handlers().generate(request))

    assert final.text == "Answer from echo: one" and final.finish_reason == "length"


def test_a_closed_port_is_provider_unreachable():
    failure = refused(
        lambda: handlers(retries=1).generate(
            schemas.GenerateRequested(
                prompt="hi", provider=endpoint(f"http://127.0.0.1:{closed_port()}/v1")
            )
        )
    )

    assert failure.code == "provider_unreachable"


def test_a_provider_that_does_not_answer_in_time_is_provider_unreachable(provider_url):
    client = ProviderClient(keys, timeout_s=1, max_retries=0, allow_private=True)

    with pytest.raises(PermanentError) as failed:
        client.open(
            endpoint(provider_url, model="hangs"),
            [{"role": "user", "content": "hi"}],
            8,
            Sampling(),
        )

    assert failed.value.code == "provider_unreachable"


def test_a_wrong_key_is_provider_auth_failed_and_the_key_is_not_in_the_message(provider_url):
    failure = refused(
        lambda: handlers().generate(
            schemas.GenerateRequested(prompt="hi", provider=endpoint(provider_url, secret="wrong"))
        )
    )

    assert failure.code == "provider_auth_failed"
    assert "sk-not-the-key" not in str(failure) and KEY not in str(failure)


def test_a_model_the_provider_lacks_is_provider_model_not_found(provider_url):
    failure = refused(
        lambda: handlers().generate(
            schemas.GenerateRequested(prompt="hi", provider=endpoint(provider_url, model="gpt-7"))
        )
    )

    assert failure.code == "provider_model_not_found" and "gpt-7" in str(failure)


def test_a_stream_of_garbage_is_refused_before_any_reply(provider_url):
    # Refused by generate() itself: the gateway still answers it with a status.
    with pytest.raises(PermanentError) as failed:
        handlers().generate(
            schemas.GenerateRequested(
                prompt="hi", provider=endpoint(provider_url, model="garbage-sse")
            )
        )

    assert failed.value.code == "provider_bad_response"


def test_garbage_after_the_first_token_ends_the_stream_with_an_error(provider_url):
    stream = handlers().generate(
        schemas.GenerateRequested(
            prompt="hi there", provider=endpoint(provider_url, model="garbage-late")
        )
    )
    assert isinstance(next(stream), schemas.GenerationStarted)
    assert isinstance(next(stream), schemas.TokensGenerated)

    with pytest.raises(PermanentError) as failed:
        next(stream)

    assert failed.value.code == "provider_bad_response"


def test_a_429_is_retried_with_backoff_and_then_answered(provider_url):
    request = schemas.GenerateRequested(
        prompt="again", provider=endpoint(provider_url, model="rate-limited-once")
    )

    _, final = run(handlers().generate(request))

    assert final.text == "Answer from echo: again"
    assert stats(provider_url)["rate-limited-once"] == 2


def test_a_provider_failing_with_500_is_retried_then_provider_failed(provider_url):
    failure = refused(
        lambda: handlers(retries=2).generate(
            schemas.GenerateRequested(
                prompt="hi", provider=endpoint(provider_url, model="always-500")
            )
        )
    )

    assert failure.code == "provider_failed" and "500" in str(failure)
    assert stats(provider_url)["always-500"] == 3  # the first try and two retries


def test_a_missing_secret_is_provider_secret_not_found(provider_url):
    failure = refused(
        lambda: handlers().generate(
            schemas.GenerateRequested(
                prompt="hi", provider=endpoint(provider_url, secret="nobody-stored-this")
            )
        )
    )

    assert failure.code == "provider_secret_not_found"


def test_the_endpoint_test_lists_the_providers_models(provider_url):
    tested = handlers().test_provider(
        schemas.ProviderTestRequested(provider=endpoint(provider_url))
    )

    assert "echo" in tested.models and tested.has_model
    missing = handlers().test_provider(
        schemas.ProviderTestRequested(provider=endpoint(provider_url, model="gpt-7"))
    )
    assert not missing.has_model


def test_the_endpoint_test_reports_the_providers_refusal(provider_url):
    failure = refused(
        lambda: handlers().test_provider(
            schemas.ProviderTestRequested(provider=endpoint(provider_url, secret="wrong"))
        )
    )

    assert failure.code == "provider_auth_failed"


def test_a_summary_is_written_by_the_provider(provider_url):
    messages = [
        schemas.ChatMessage(
            message_id=f"m{i}",
            platform="whatsapp",
            chat="team",
            sender="Marta",
            sent_at="2025-02-14T11:15:00Z",
            tz_assumption="UTC",
            seq=i,
            source_file="chat.txt",
            text=f"Booked the venue in Lisbon, note {i}",
        )
        for i in range(3)
    ]

    summary = handlers().summarize(
        schemas.SummarizeRequested(
            messages=messages, provider=endpoint(provider_url), model="team-llm"
        )
    )

    assert summary.model == "team-llm" and summary.summary.startswith("Answer from echo:")
    assert summary.chunks == 1 and summary.tokens > 0 and summary.prompt_tokens > 0


def test_keys_are_read_from_auth_only_with_the_internal_token():
    with pytest.raises(PermanentError) as failed:
        AuthKeys("http://127.0.0.1:1", "").key(ORG, "good")

    assert failed.value.code == "provider_secret_not_found"


def test_a_read_key_is_kept_for_its_ttl(provider_url):
    calls = []
    now = [0.0]
    auth = AuthKeys("http://127.0.0.1:1", "token", ttl_s=60, clock=lambda: now[0])
    auth._reveal = lambda org, name: calls.append(name) or KEY  # type: ignore[method-assign]

    assert auth.key(ORG, "good") == KEY and auth.key(ORG, "good") == KEY
    now[0] = 61.0
    auth.key(ORG, "good")
    assert calls == ["good", "good"]


# --- over the bus, beside the real local model ---------------------------------------------


@pytest.fixture
def rpc_server(bus, llm_cluster, registry, smollm):
    server = bus.rpc_server(
        topology.INFERENCE_RPC.name,
        InferenceHandlers(
            registry,
            llm_cluster,
            smollm.name,
            providers=ProviderClient(keys, timeout_s=5, max_retries=0, allow_private=True),
        ),
        prefetch=2,
        workers=1,
    ).start()
    wait_for(lambda: server.ready, "the RPC server to consume")
    yield server
    server.stop()


def test_over_the_bus_provider_failures_are_codes_and_the_local_model_still_answers(
    bus, rpc_server, provider_url
):
    failures = {}
    for case, ep in {
        "unreachable": endpoint(f"http://127.0.0.1:{closed_port()}/v1"),
        "wrong key": endpoint(provider_url, secret="wrong"),
        "unknown model": endpoint(provider_url, model="gpt-7"),
        "garbage": endpoint(provider_url, model="garbage-sse"),
    }.items():
        with pytest.raises(RpcError) as failed:
            list(bus.rpc().stream(schemas.GenerateRequested(prompt="hi", provider=ep), timeout=30))
        failures[case] = failed.value.code

    assert failures == {
        "unreachable": "provider_unreachable",
        "wrong key": "provider_auth_failed",
        "unknown model": "provider_model_not_found",
        "garbage": "provider_bad_response",
    }
    streamed = list(
        bus.rpc().stream(
            schemas.GenerateRequested(
                prompt="Where is the offsite?", provider=endpoint(provider_url)
            ),
            timeout=30,
        )
    )
    assert streamed[-1].text == "Answer from echo: Where is the offsite?"
    local = bus.rpc().call(
        schemas.GenerateRequested(prompt=OFFSITE, system=SYSTEM, max_new_tokens=32), timeout=120
    )
    assert local.model == "SmolLM2-135M-Instruct" and "Lisbon" in local.text


# --- where an endpoint may point (chatlens.shared.egress) ---------------------------------------


def test_an_endpoint_on_a_private_address_is_refused_before_any_request(provider_url):
    before = sum(stats(provider_url).values())
    client = ProviderClient(keys, timeout_s=5, max_retries=2)  # the operator allowed nothing

    failed = refused(lambda: client.models(endpoint(provider_url)))

    assert failed.code == "endpoint_not_allowed" and "127.0.0.1" in str(failed)
    assert sum(stats(provider_url).values()) == before


def test_a_host_that_rebinds_to_a_private_address_after_the_check_is_refused(provider_url):
    """DNS rebinding: the name answers a public address to the check made before the call and
    the provider's loopback address to the connection; the connection is refused."""
    port = int(provider_url.rsplit(":", 1)[1].split("/")[0])
    answers = iter(["93.184.216.34"])

    def rebinding(host, port_, **kwargs):
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port_))]

    before = sum(stats(provider_url).values())
    client = ProviderClient(keys, timeout_s=5, max_retries=0, resolve=rebinding)

    failed = refused(lambda: client.models(endpoint(f"http://provider.example:{port}/v1")))

    assert failed.code == "endpoint_not_allowed" and "127.0.0.1" in str(failed)
    assert sum(stats(provider_url).values()) == before
