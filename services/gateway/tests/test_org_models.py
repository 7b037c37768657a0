"""An org's own models end to end: the key stored in the REAL auth service (in-process), the
endpoint, defaults and usage in the gateway, the REAL inference handlers on the real bus reading
the key from auth and calling a REAL OpenAI-compatible server process
(``chatlens.shared.openai_test_server``) with the ``openai`` client. Only the index, the
embedding worker and the local model are fakes (the local model answers the requests that name
no endpoint, to show they still go there)."""

from __future__ import annotations

import json
import socket
import types
import uuid

import openai
import pytest

from chatlens.gateway.app import create_app
from chatlens.gateway.db import Answer
from chatlens.inference.handlers import InferenceHandlers
from chatlens.inference.openai_backend import ProviderClient
from chatlens.inference.provider_keys import AuthKeys
from chatlens.inference.registry import Registry
from chatlens.shared import openai_test_server, schemas
from chatlens.shared.bus import PermanentError

from . import test_answers
from .test_answers import LLM, chat_message, embed, fake_services, indexed_collection
from .test_streaming_answers import sse_events
from .test_with_real_auth import INTERNAL_TOKEN, bearer, real_auth, sign_up  # noqa: F401

served = test_answers.served  # the gateway on a loopback port (a fixture)
KEY = "sk-org-provider-key-0123456789"
VENUE = chat_message("m-venue", "Booked the venue in Lisbon for the offsite, 12 to 14 March")


@pytest.fixture(scope="module")
def provider_url():
    with openai_test_server.serve(KEY) as url:
        yield url


@pytest.fixture
def database_url(tmp_path):  # one database is enough: the tables are migrated on all three
    return f"sqlite:///{tmp_path / 'gateway.db'}"  # by every other gateway test


@pytest.fixture
def settings(settings, real_auth):  # noqa: F811
    return settings.model_copy(
        update={
            "auth_url": real_auth["url"],
            "jwks_url": None,
            "internal_token": INTERNAL_TOKEN,
            "endpoint_allow_private": True,
        }
    )  # the local provider


@pytest.fixture
def owner(client, real_auth):  # noqa: F811
    """A new owner of a new org, with the org's key stored in auth as secret ``team-key``."""
    tokens = sign_up(client, f"owner-{uuid.uuid4().hex[:8]}@example.com")
    headers = bearer(tokens["access_token"])
    for name, value in (("team-key", KEY), ("wrong-key", "sk-wrong-0123456789abcdef")):
        stored = client.put(
            f"/api/v1/auth/secrets/{name}",
            headers=headers,
            json={"provider": "openai", "value": value},
        )
        assert stored.status_code == 200, stored.json
    return {"headers": headers, "token": tokens["access_token"]}


def index(request, delivery):
    if isinstance(request, schemas.MessagesListRequested):
        return schemas.MessagesListed(version=2, total=1, messages=[VENUE])
    return schemas.SearchAnswered(
        version=2, hits=[schemas.SearchHit(message=VENUE, score=0.03, semantic_score=0.7)]
    )


def inference(real_auth_url: str, local: list):  # noqa: F811
    """The real inference handlers (keys from the real auth); a request naming no endpoint goes
    to a stand-in for the local model, which records it."""
    real = InferenceHandlers(
        Registry.load(),
        types.SimpleNamespace(timeout_s=10.0),
        LLM,  # type: ignore[arg-type]
        providers=ProviderClient(
            AuthKeys(real_auth_url, INTERNAL_TOKEN).key,
            timeout_s=5,
            max_retries=0,
            allow_private=True,
        ),
    )

    def handle(request, delivery):
        if isinstance(request, schemas.GenerateRequested) and request.provider is None:
            if request.model not in (None, LLM):  # as the real registry refuses it
                raise PermanentError(f"no model {request.model!r}", code="unknown_model")
            local.append(request)
            return schemas.Generated(model=LLM, text="Lisbon [1].", tokens=4, prompt_tokens=40)
        return real(request, delivery)

    return handle


def put_endpoint(client, headers, name, url, model="echo", secret="team-key"):
    return client.put(
        f"/api/v1/models/endpoints/{name}",
        headers=headers,
        json={"base_url": url, "model": model, "secret": secret},
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(app) -> int:
    with app.extensions["chatlens.sessions"]() as session:
        return session.query(Answer).count()


def test_an_org_endpoint_answers_summarises_and_completes_and_its_usage_is_counted(
    app,
    client,
    owner,
    served,
    real_auth,  # noqa: F811 - the imported fixture
    provider_url,
    amqp_url,
):
    headers = owner["headers"]
    collection = indexed_collection(app, client, headers, version=2)
    local: list = []
    with fake_services(
        amqp_url, embedding=embed, index=index, inference=inference(real_auth["url"], local)
    ):
        stored = put_endpoint(client, headers, "team-llm", provider_url)
        tested = client.post("/api/v1/models/endpoints/team-llm/test", headers=headers)
        defaults = client.put(
            "/api/v1/models/defaults",
            headers=headers,
            json={"answers": "team-llm", "summaries": "team-llm"},
        )
        asked = client.post(
            f"/api/v1/collections/{collection}/ask",
            headers=headers,
            json={"question": "Where is the offsite?"},
        )
        streamed = client.post(
            f"/api/v1/collections/{collection}/ask",
            headers=headers,
            json={"question": "Where is the offsite?", "stream": True},
        )
        events = sse_events(streamed.get_data(as_text=True))  # read now: the stream runs as read
        summary = client.post(
            f"/api/v1/collections/{collection}/summaries", headers=headers, json={"chat": "Team"}
        )
        gpt = openai.OpenAI(base_url=f"{served}/v1", api_key=owner["token"], max_retries=0)
        completion = gpt.chat.completions.create(
            model="team-llm", messages=[{"role": "user", "content": "Say hello to Marta"}]
        )
        listed = [m.id for m in gpt.models.list()]
        local_answer = client.post(
            f"/api/v1/collections/{collection}/ask",
            headers=headers,
            json={"question": "Where is the offsite?", "model": LLM},
        )
        usage = client.get("/api/v1/models/usage", headers=headers)

    assert stored.status_code == 201, stored.json
    assert stored.json["secret"] == "team-key" and stored.json["base_url"] == provider_url
    assert tested.status_code == 200, tested.json
    assert tested.json["ok"] and tested.json["has_model"] and "echo" in tested.json["models"]
    assert defaults.status_code == 200 and defaults.json["answers"] == "team-llm"
    assert asked.status_code == 201, asked.json
    assert asked.json["model"] == "team-llm"
    assert asked.json["answer"] and asked.json["grounding"] is not None  # a model wrote it
    assert asked.json["citations"][0]["message_id"] == "m-venue"
    assert events[0] == ("start", {"model": "team-llm"})
    tokens = "".join(data["text"] for name, data in events if name == "token")
    assert tokens.startswith("Answer from echo:")  # the provider's own words, as it wrote them
    assert events[-1][0] == "answer" and events[-1][1]["model"] == "team-llm"
    assert summary.status_code == 201, summary.json
    assert summary.json["model"] == "team-llm"
    # The echo model recites the start of its prompt (the summary's own scaffolding): the
    # prompt-echo guard does not pass that off as a summary, whichever model wrote it.
    assert summary.json["summary"].startswith("No summary could be written: the model repeated")
    assert completion.model == "team-llm"
    assert completion.choices[0].message.content == "Answer from echo: Say hello to Marta"
    assert completion.usage.completion_tokens == 7
    assert LLM in listed and "team-llm" in listed
    assert local_answer.json["model"] == LLM and len(local) == 1  # named: the local model
    assert usage.status_code == 200, usage.json
    totals = {row["model"]: row for row in usage.json["models"]}
    assert totals["team-llm"]["requests"] == 4 and totals["team-llm"]["failed"] == 0
    assert totals["team-llm"]["completion_tokens"] > 7
    assert totals["team-llm"]["prompt_tokens"] > totals["team-llm"]["completion_tokens"]
    assert totals[LLM] == {
        "model": LLM,
        "day": None,
        "requests": 1,
        "failed": 0,
        "prompt_tokens": 40,
        "completion_tokens": 4,
    }
    assert usage.json["days"][0]["day"] is not None
    for response in (stored, tested, asked, summary, usage):
        assert KEY not in response.get_data(as_text=True)


def test_a_failing_provider_is_a_502_with_its_code_nothing_is_recorded_and_the_local_model_answers(
    app,
    client,
    owner,
    real_auth,  # noqa: F811 - the imported fixture
    provider_url,
    amqp_url,
):
    headers = owner["headers"]
    collection = indexed_collection(app, client, headers, version=2)
    local: list = []
    cases = {
        "closed": (f"http://127.0.0.1:{closed_port()}/v1", "echo", "team-key"),
        "bad-key": (provider_url, "echo", "wrong-key"),
        "no-model": (provider_url, "gpt-7", "team-key"),
        "garbage": (provider_url, "garbage-sse", "team-key"),
        "no-secret": (provider_url, "echo", "nobody-stored-this"),
    }
    ask = f"/api/v1/collections/{collection}/ask"
    with fake_services(
        amqp_url, embedding=embed, index=index, inference=inference(real_auth["url"], local)
    ):
        for name, (url, model, secret) in cases.items():
            assert put_endpoint(client, headers, name, url, model, secret).status_code == 201
        refused = {
            name: client.post(
                ask, headers=headers, json={"question": "Where is the offsite?", "model": name}
            )
            for name in cases
        }
        tests = {
            name: client.post(f"/api/v1/models/endpoints/{name}/test", headers=headers)
            for name in ("closed", "bad-key")
        }
        put_endpoint(client, headers, "late-garbage", provider_url, "garbage-late")
        broken = client.post(
            ask,
            headers=headers,
            json={"question": "Where is the offsite?", "model": "late-garbage", "stream": True},
        )
        events = sse_events(broken.get_data(as_text=True))
        chat = client.post(
            "/v1/chat/completions",
            headers=headers,
            json={"model": "bad-key", "messages": [{"role": "user", "content": "hi"}]},
        )
        default = client.post(ask, headers=headers, json={"question": "Where is the offsite?"})
        usage = client.get("/api/v1/models/usage", headers=headers).json

    codes = {name: (r.status_code, r.json["error"]["code"]) for name, r in refused.items()}
    assert codes == {
        "closed": (502, "provider_unreachable"),
        "bad-key": (502, "provider_auth_failed"),
        "no-model": (502, "provider_model_not_found"),
        "garbage": (502, "provider_bad_response"),
        "no-secret": (422, "provider_secret_not_found"),
    }
    assert "gpt-7" in refused["no-model"].json["error"]["message"]
    assert {name: (r.status_code, r.json["error"]["code"]) for name, r in tests.items()} == {
        "closed": (502, "provider_unreachable"),
        "bad-key": (502, "provider_auth_failed"),
    }
    assert [name for name, _ in events] == ["start", "token", "error"]
    assert events[-1][1]["error"]["code"] == "provider_bad_response"
    assert chat.status_code == 502 and chat.json["error"]["code"] == "provider_auth_failed"
    # Nothing was recorded as an answer but the default model's, which still answers.
    assert default.status_code == 201 and default.json["model"] == LLM and len(local) == 1
    assert answers(app) == 1
    totals = {row["model"]: row for row in usage["models"]}
    for name in ("closed", "bad-key", "no-model", "garbage", "no-secret", "late-garbage"):
        assert (totals[name]["requests"], totals[name]["failed"]) == (
            0,
            2 if name == "bad-key" else 1,
        ), name
        assert totals[name]["prompt_tokens"] == totals[name]["completion_tokens"] == 0
    assert totals[LLM]["requests"] == 1
    assert all(KEY not in json.dumps(r.json) for r in refused.values())


def test_endpoints_and_defaults_refuse_bad_input_and_change_nothing(
    client,
    owner,
    real_auth,  # noqa: F811 - the imported fixture
    provider_url,
    amqp_url,
):
    headers = owner["headers"]
    local: list = []
    with fake_services(amqp_url, inference=inference(real_auth["url"], local)):
        bad_url = put_endpoint(client, headers, "x", "not a url")
        bad_name = put_endpoint(client, headers, "no spaces", provider_url)
        shadow = put_endpoint(client, headers, LLM, provider_url)
        bad_secret = put_endpoint(client, headers, "x", provider_url, secret="UPPER CASE")
        unknown_default = client.put(
            "/api/v1/models/defaults", headers=headers, json={"answers": "nobody"}
        )
        assert put_endpoint(client, headers, "team-llm", provider_url).status_code == 201
        replaced = put_endpoint(client, headers, "team-llm", provider_url, "rate-limited-once")
        client.put("/api/v1/models/defaults", headers=headers, json={"summaries": "team-llm"})
        shown = client.get("/api/v1/models/defaults", headers=headers)
        one = client.get("/v1/models/team-llm", headers=headers)
        in_use = client.delete("/api/v1/models/endpoints/team-llm", headers=headers)
        missing_test = client.post("/api/v1/models/endpoints/nobody/test", headers=headers)
        bad_day = client.get("/api/v1/models/usage?since=yesterday", headers=headers)
        listed = client.get("/api/v1/models/endpoints", headers=headers)
        client.put("/api/v1/models/defaults", headers=headers, json={})
        deleted = client.delete("/api/v1/models/endpoints/team-llm", headers=headers)
        gone = client.get("/api/v1/models/endpoints", headers=headers)

    for response, status, code in (
        (bad_url, 422, "validation_error"),
        (bad_name, 404, "model_not_found"),
        (shadow, 409, "model_exists"),
        (bad_secret, 422, "validation_error"),
        (unknown_default, 404, "model_not_found"),
        (in_use, 409, "model_in_use"),
        (missing_test, 404, "model_not_found"),
        (bad_day, 422, "validation_error"),
    ):
        assert (response.status_code, response.json["error"]["code"]) == (status, code), (
            response.json
        )
    assert replaced.status_code == 200 and replaced.json["model"] == "rate-limited-once"
    assert shown.json == {"answers": None, "summaries": "team-llm"}
    assert one.status_code == 200 and one.json["owned_by"] == "org"
    assert [e["name"] for e in listed.json["endpoints"]] == ["team-llm"]
    assert deleted.status_code == 204 and gone.json == {"endpoints": []}


def test_another_orgs_endpoint_is_not_found(client, owner, real_auth, provider_url, amqp_url):  # noqa: F811
    other = bearer(sign_up(client, f"other-{uuid.uuid4().hex[:8]}@example.com")["access_token"])
    local: list = []
    with fake_services(amqp_url, inference=inference(real_auth["url"], local)):
        assert put_endpoint(client, owner["headers"], "team-llm", provider_url).status_code == 201
        tested = client.post("/api/v1/models/endpoints/team-llm/test", headers=other)
        listed = client.get("/api/v1/models/endpoints", headers=other)
        chat = client.post(
            "/v1/chat/completions",
            headers=other,
            json={"model": "team-llm", "messages": [{"role": "user", "content": "hi"}]},
        )

    assert tested.status_code == 404 and listed.json == {"endpoints": []}
    # Not the org's endpoint: a registry name to the inference service, which has none such.
    assert chat.status_code == 404 and chat.json["error"]["code"] == "model_not_found"


def test_an_endpoint_on_a_private_address_is_refused_unless_the_operator_allows_it(
    settings, owner, provider_url, tmp_path
):
    """ENDPOINT_ALLOW_PRIVATE off (the default): loopback, private and link-local hosts are
    refused when saved, with the address named, and nothing is stored."""
    strict = create_app(
        settings.model_copy(
            update={"endpoint_allow_private": False, "data_dir": tmp_path / "strict"}
        )
    )
    try:
        client, headers = strict.test_client(), owner["headers"]
        refusals = [
            put_endpoint(client, headers, "team-llm", url)
            for url in (
                provider_url,
                "http://169.254.169.254/latest/v1",
                "http://[::1]:8000/v1",
                "http://2130706433:8000/v1",
            )
        ]
        listed = client.get("/api/v1/models/endpoints", headers=headers)
    finally:
        strict.extensions["chatlens.bus"].close()
        strict.extensions["chatlens.engine"].dispose()
    for response in refusals:
        assert (response.status_code, response.json["error"]["code"]) == (
            422,
            "endpoint_not_allowed",
        ), response.json
    assert "127.0.0.1" in refusals[0].json["error"]["message"]
    assert listed.json == {"endpoints": []}
