"""The real all-MiniLM-L6-v2, loaded once per Dask worker, embeds text into unit vectors."""

from __future__ import annotations

import numpy as np
import pytest

from chatlens.embedding_worker import embedding
from chatlens.shared import compute, model_files
from chatlens.shared.bus import TransientError


def test_texts_become_384_dimensional_unit_vectors(embedder):
    vectors = embedder.embed(["Booked the venue for the offsite", "Invoice 42 is paid"])

    assert vectors.shape == (2, embedding.DIMENSIONS)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_paraphrase_is_closer_than_an_unrelated_sentence(embedder):
    query, paraphrase, unrelated = embedder.embed(
        [
            "When is the team trip to Portugal?",
            "Marta: Booked the venue in Lisbon for the offsite, 12 to 14 March",
            "Rui: The printer on the second floor is out of toner again",
        ]
    )

    assert float(query @ paraphrase) > float(query @ unrelated) + 0.1


def test_the_model_is_loaded_once_per_worker_and_kept_on_the_plugin(dask_client, embedder):
    def model_identity(dask_worker):
        return id(dask_worker.plugins[embedding.PLUGIN_NAME].model)

    before = dask_client.run(model_identity)
    embedder.embed(["one more batch"])
    after = dask_client.run(model_identity)

    assert before == after
    assert len(before) == 1 and id(None) not in before.values()


def test_batches_are_embedded_in_order_when_pipelined(embedder):
    texts = [f"message number {i} about topic {i % 7}" for i in range(40)]
    futures = [embedder.submit(texts[i : i + 10]) for i in range(0, 40, 10)]

    pipelined = np.vstack([embedder.result(f) for f in futures])

    np.testing.assert_allclose(pipelined, embedder.embed(texts), atol=1e-5)


def test_no_texts_give_no_vectors(embedder):
    assert embedder.embed([]).shape == (0, embedding.DIMENSIONS)


def test_a_cluster_without_an_embedding_worker_is_a_transient_error(stalled_embedder):
    # The timeout turns the wait into a TransientError the bus retries, not a hang.
    with pytest.raises(TransientError, match="embedding on Dask failed"):
        stalled_embedder.embed(["hello"])
    assert not stalled_embedder.ready()


def test_a_cluster_with_an_embedding_worker_is_ready(embedder):
    assert embedder.ready()


def test_a_cluster_that_forgot_the_model_plugin_gets_it_again():
    """A Dask scheduler that restarted has no plugins: its workers have no model, every batch
    fails with KeyError. The embedder registers the plugin again, and the retry is answered."""
    client = compute.connect(None, name="forgetful-cluster", resources=embedding.RESOURCES)
    registered = []

    def register() -> None:
        registered.append(True)
        embedding.register(client, str(model_files.embedding_model_dir()), device="cpu")

    embedder = embedding.Embedder(client, timeout_s=120, on_lost_plugin=register)
    try:
        with pytest.raises(TransientError, match="chatlens-embedder"):
            embedder.embed(["where is the offsite?"])
        assert registered == [True]
        vectors = embedder.embed(["where is the offsite?"])
        assert vectors.shape == (1, 384) and registered == [True]
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()
