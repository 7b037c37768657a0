"""Traces on the Dask workers (issue 14): each generation runs in a span on the engine actor's
worker, from its ``submit`` to its end in the decode loop, in the trace of the service's
``dask submit generate`` span, with the tokens it generated. The first test's worker is a
separate process started with the preload every deployment gives it, exporting to an OTLP gRPC
receiver the test runs; the others use the session's in-process cluster, whose spans are this
process's. The model is the real SmolLM2."""

from __future__ import annotations

import time

import pytest
from distributed import Client, LocalCluster

from chatlens.inference.cluster import LlmCluster
from chatlens.inference.generation import RESOURCE, PromptTooLong, chat_turns
from chatlens.shared import dask_preload, logs, tracing
from chatlens.shared.testing import memory_spans, otlp_receiver


def test_a_generation_runs_in_a_worker_span_continuing_the_submit_span(smollm):
    spans = memory_spans()
    with otlp_receiver() as collector:
        worker = LocalCluster(
            n_workers=1,
            processes=True,
            threads_per_worker=1,
            resources={RESOURCE: 1},
            preload=[dask_preload.__name__],
            # The batch processor's delay, 5 s by default, cut so that the span comes quickly.
            env={
                "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
                "OTEL_BSP_SCHEDULE_DELAY": "100",
            },
            dashboard_address=None,
        )
        cluster = LlmCluster(Client(worker), timeout_s=120)
        try:
            cluster.start([smollm])
            with logs.correlation("corr-worker-2"), tracing.span("inference.generate process"):
                completion = cluster.generate(smollm, "Say hi.", None, max_new_tokens=4)
            generation = collector.wait_for("generate", timeout=30)
        finally:
            cluster.close()  # the client and the LocalCluster it runs on

    submit = {s.name: s for s in spans.get_finished_spans()}["dask submit generate"]
    assert (generation.service, generation.kind) == ("dask-worker", "SERVER")
    assert generation.trace_id == submit.context.trace_id
    assert generation.parent_span_id == submit.context.span_id
    assert generation.attributes["chatlens.correlation_id"] == "corr-worker-2"
    assert generation.attributes["chatlens.model"] == smollm.name
    assert generation.attributes["chatlens.max_new_tokens"] == 4
    assert generation.attributes["chatlens.prompt_tokens"] == completion.prompt_tokens
    assert 0 < completion.tokens <= 4
    assert generation.attributes["chatlens.tokens_generated"] == completion.tokens
    assert generation.attributes["chatlens.finish_reason"] == completion.finish_reason


def test_a_generation_stopped_by_its_caller_ends_its_span_as_cancelled(llm_cluster, smollm):
    spans = memory_spans()
    generation = llm_cluster.open(
        smollm, chat_turns("Write a long story about a lighthouse.", None), max_new_tokens=200
    )
    updates = generation.updates()
    first = next(updates)
    updates.close()  # the caller went away: the request is cancelled in its engine

    (span,) = _ended(spans, "generate")
    assert span.attributes["chatlens.finish_reason"] == "cancelled"
    assert first.tokens <= span.attributes["chatlens.tokens_generated"] < 200


def test_a_prompt_the_engine_refuses_ends_its_span_as_failed(llm_cluster, smollm):
    spans = memory_spans()
    narrow = smollm.model_copy(update={"context_length": 40})
    with pytest.raises(PromptTooLong):
        llm_cluster.open(narrow, chat_turns("x " * 60, None), max_new_tokens=32)

    (span,) = _ended(spans, "generate")
    assert span.status.status_code.name == "ERROR"
    assert "PromptTooLong" in span.status.description


def _ended(spans, name: str, timeout: float = 10.0) -> list:
    """The finished spans called ``name``, once there is one: a generation's ends in the engine's
    thread, a moment after the call that ended it returned."""
    deadline = time.monotonic() + timeout
    while True:
        found = [s for s in spans.get_finished_spans() if s.name == name]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)
