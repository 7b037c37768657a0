"""Shared fixtures: the fixture exports, one Dask cluster with the real model, a RabbitMQ vhost."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatlens.embedding_worker import embedding
from chatlens.embedding_worker.parsing.whatsapp import WhatsAppExport
from chatlens.shared import compute, model_files
from chatlens.shared.testing import throwaway_vhost

FIXTURES = Path(__file__).parent / "fixtures"


def _parse(path: Path | str, **options):
    path = Path(path)
    if not path.is_absolute():
        path = FIXTURES / path
    export = WhatsAppExport(path, **options)
    return export, list(export.messages())


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def make_zip():
    """``make_zip(path, {entry: bytes | Path, ...}) -> path``: writes a deflated zip archive."""

    def write(path: Path, entries: dict) -> Path:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in entries.items():
                data = content.read_bytes() if isinstance(content, Path) else content
                archive.writestr(name, data)
        return path

    return write


@pytest.fixture(scope="session")
def slack_zip(tmp_path_factory, make_zip) -> Path:
    """The Slack export fixture folder, zipped the way Slack ships it (flat, no root folder)."""
    root = FIXTURES / "slack-export"
    entries = {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*.json"))}
    return make_zip(tmp_path_factory.mktemp("slack") / "Acme Slack export Apr 1 2024.zip", entries)


@pytest.fixture(scope="session")
def parse():
    """``parse(name_or_path, **options) -> (export, messages)`` for a fixture file or a path.

    (A fixture rather than an import: tests run with ``--import-mode=importlib``.)
    """
    return _parse


@pytest.fixture(scope="session")
def dask_client():
    """One in-process LocalCluster for the whole session, with the model loaded once."""
    client = compute.connect(None, name="embedding-worker-tests", resources=embedding.RESOURCES)
    embedding.register(client, str(model_files.embedding_model_dir()), device="cpu")
    yield client
    cluster = client.cluster
    client.close()
    cluster.close()


@pytest.fixture(scope="session")
def embedder(dask_client) -> embedding.Embedder:
    return embedding.Embedder(dask_client, timeout_s=120)


@pytest.fixture(scope="session")
def stalled_embedder():
    """An embedder whose cluster has no worker with the "embed" resource: tasks never run."""
    client = compute.connect(None, name="no-embed-tests", resources={})
    yield embedding.Embedder(client, timeout_s=0.5)
    cluster = client.cluster
    client.close()
    cluster.close()


@pytest.fixture
def rabbit_url() -> Iterator[str]:
    """An AMQP URL to a fresh RabbitMQ vhost, deleted afterwards."""
    with throwaway_vhost("embedding") as url:
        yield url
