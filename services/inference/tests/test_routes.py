"""Every message type bound to the inference queue has a handler (a new one without fails)."""

from types import SimpleNamespace

import pytest

from chatlens.inference.handlers import InferenceHandlers
from chatlens.shared import schemas
from chatlens.shared.bus import PermanentError


def handlers(registry) -> InferenceHandlers:
    cluster = SimpleNamespace(timeout_s=1.0)  # routing only: nothing reaches a model
    return InferenceHandlers(registry, cluster, registry.llm().name)  # type: ignore[arg-type]


def test_every_message_bound_to_the_inference_queue_has_a_handler(registry):
    assert handlers(registry).routes.unhandled() == []


def test_a_message_of_another_queue_is_refused_as_unsupported(registry):
    with pytest.raises(PermanentError) as refused:
        handlers(registry)(schemas.EmbedQuery(texts=["hi"]), None)  # type: ignore[arg-type]
    assert refused.value.code == "unsupported"
