"""The inference RPC over a real RabbitMQ (a throw-away vhost), with the real model."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from chatlens.inference.handlers import InferenceHandlers
from chatlens.shared import schemas, topology
from chatlens.shared.bus import RpcError

OFFSITE = "Context: The offsite is in Lisbon from 12 to 14 March.\nQuestion: Where is the offsite?"
SYSTEM = "Answer the question from the context only. Be brief."


@pytest.fixture
def rpc_server(bus, llm_cluster, registry, smollm):
    """The inference RPC server as main() builds it, on the session's Dask cluster."""
    server = bus.rpc_server(
        topology.INFERENCE_RPC.name,
        InferenceHandlers(registry, llm_cluster, smollm.name),
        prefetch=2,
        workers=1,
    ).start()
    wait_for(lambda: server.ready, "the RPC server to consume")
    yield server
    server.stop()


def wait_for(condition, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_a_generate_request_is_answered_over_the_bus(bus, rpc_server):
    reply = bus.rpc().call(
        schemas.GenerateRequested(prompt=OFFSITE, system=SYSTEM, max_new_tokens=32), timeout=60
    )

    assert isinstance(reply, schemas.Generated)
    assert "Lisbon" in reply.text
    assert reply.model == "SmolLM2-135M-Instruct"
    assert 0 < reply.tokens <= 32


def test_an_unknown_model_is_an_rpc_error_with_code_unknown_model(bus, rpc_server):
    with pytest.raises(RpcError) as failed:
        bus.rpc().call(schemas.GenerateRequested(prompt="Hi", model="gpt-5"), timeout=30)

    assert failed.value.code == "unknown_model"
    assert "gpt-5" in str(failed.value)


def test_the_registry_is_listed_over_the_bus(bus, rpc_server):
    reply = bus.rpc().call(schemas.ModelsListRequested(), timeout=30)

    assert isinstance(reply, schemas.ModelsListed)
    assert reply.default == "SmolLM2-135M-Instruct"
    kinds = {m.name: (m.kind, m.context_length) for m in reply.models}
    assert kinds["SmolLM2-135M-Instruct"] == ("llm", 8192)
    assert kinds["all-MiniLM-L6-v2"][0] == "embedding"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def test_python_m_chatlens_inference_serves_until_sigterm(amqp_url, bus, tmp_path):
    port = free_port()
    env = {**os.environ, "AMQP_URL": amqp_url, "HEALTH_PORT": str(port), "TORCH_THREADS": "1"}
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    env.pop("MODEL_REGISTRY", None)
    log_path = tmp_path / "inference.log"
    with open(log_path, "w") as log_file:  # a file, not a pipe nobody drains while we wait
        service = subprocess.Popen(
            [sys.executable, "-m", "chatlens.inference"],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: http_status(f"http://127.0.0.1:{port}/healthz") == 200, "/healthz")
        wait_for(
            lambda: (
                service.poll() is not None or http_status(f"http://127.0.0.1:{port}/readyz") == 200
            ),
            "/readyz",
            180,
        )
        assert service.poll() is None, log_path.read_text()

        reply = bus.rpc().call(
            schemas.GenerateRequested(prompt=OFFSITE, system=SYSTEM, max_new_tokens=24), timeout=60
        )
        assert "Lisbon" in reply.text

        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=60) == 0, log_path.read_text()
    finally:
        if service.poll() is None:
            service.kill()
            service.wait(timeout=30)
    assert '"message": "inference ready"' in log_path.read_text()


def test_a_generation_streams_over_the_bus_token_by_token(bus, rpc_server):
    messages = list(
        bus.rpc().stream(
            schemas.GenerateRequested(
                messages=[
                    schemas.ChatTurn(role="system", content=SYSTEM),
                    schemas.ChatTurn(role="user", content=OFFSITE),
                ],
                max_new_tokens=32,
            ),
            timeout=60,
        )
    )

    started, *pieces, final = messages
    assert isinstance(started, schemas.GenerationStarted) and started.prompt_tokens > 20
    assert len(pieces) > 2 and all(isinstance(p, schemas.TokensGenerated) for p in pieces)
    assert isinstance(final, schemas.Generated) and "Lisbon" in final.text
    assert "".join(p.text for p in pieces) == final.text
    assert final.prompt_tokens == started.prompt_tokens
