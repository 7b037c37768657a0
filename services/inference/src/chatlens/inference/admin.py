"""Model administration at run time: what is loaded where, and swapping models without restarts.

The admin changes what the RPC handlers use (their ``registry`` and ``default_model``) and what
the ``llm`` Dask workers hold: re-read the registry file, set the default LLM (loaded on every
worker first, so the switch costs no request a load), load or unload one model. Load errors are
kept per model and worker and shown in the status. Refusals are ``PermanentError``s with codes
the gateway maps: ``unknown_model``, ``wrong_model_kind``, ``model_in_use``, ``invalid_registry``,
``model_load_failed``.

One replica's view: with several inference replicas, each holds its own default and registry (a
change reaches the replica that took the RPC); the workers' loads are shared when the replicas
share a Dask scheduler.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from distributed import wait

from chatlens.inference.cluster import CLUSTER_ERRORS, LlmCluster
from chatlens.inference.generation import RESOURCE
from chatlens.inference.registry import ModelSpec, Registry, RegistryError, UnknownModel
from chatlens.inference.worker_tasks import load_model, model_state, unload_model
from chatlens.shared import schemas
from chatlens.shared.bus import PermanentError, TransientError

log = logging.getLogger(__name__)


class Serving(Protocol):
    """What the admin changes: the RPC handlers' registry and default model."""

    registry: Registry
    default_model: str


class ModelAdmin:
    def __init__(
        self, serving: Serving, cluster: LlmCluster, registry_path: Path | None, timeout_s: float
    ) -> None:
        self.serving, self.cluster = serving, cluster
        self.registry_path, self.timeout_s = registry_path, timeout_s
        self.errors: dict[tuple[str, str], str] = {}  # (model, worker) -> last load error

    # --- the RPCs ---------------------------------------------------------------------------

    def status(self, request: schemas.ModelsStatusRequested | None = None) -> schemas.ModelsStatus:
        states = self._worker_states()
        registry = self.serving.registry
        models = []
        for name in registry.names():
            spec = registry.get(name)
            workers = (
                []
                if spec.kind != "llm"
                else [
                    schemas.WorkerModelState(
                        worker=address,
                        loaded=name in state["loaded"],
                        loads=state["loads"].get(name, 0),
                        error=self.errors.get((name, address)),
                    )
                    for address, state in sorted(states.items())
                ]
            )
            models.append(
                schemas.ModelState(
                    name=name,
                    kind=spec.kind,
                    source=spec.base_url or spec.source,
                    gguf_file=spec.gguf_file,
                    context_length=spec.context_length,
                    dtype=spec.dtype,
                    device=spec.device,
                    default=name == self.serving.default_model,
                    workers=workers,
                )
            )
        return schemas.ModelsStatus(
            default=self.serving.default_model,
            models=models,
            registry=str(self.registry_path or "models.toml (packaged)"),
        )

    def change(self, request: schemas.ModelChangeRequested) -> schemas.ModelsStatus:
        if request.action == "reload_registry":
            self.reload()
        elif not request.model:
            raise PermanentError(f"{request.action} needs a model", code="invalid_message")
        elif request.action == "set_default":
            self.set_default(request.model)
        elif request.action == "load":
            self.load(self._llm(request.model))
        else:
            self.unload(request.model)
        log.info(
            "models changed",
            extra={
                "action": request.action,
                "model": request.model,
                "default": self.serving.default_model,
            },
        )
        return self.status()

    # --- the changes ------------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read the registry file; models it no longer lists are unloaded from the workers."""
        try:
            fresh = Registry.load(self.registry_path)
        except RegistryError as exc:
            raise PermanentError(str(exc), code="invalid_registry") from exc
        default = self.serving.default_model
        if default not in fresh.names("llm"):
            raise PermanentError(
                f"the new registry has no LLM {default!r}, the default model: "
                "set another default first",
                code="model_in_use",
            )
        gone = set(self.serving.registry.names("llm")) - set(fresh.names("llm"))
        self.serving.registry = fresh
        for name in gone:
            self._on_each_worker(unload_model, name)

    def set_default(self, name: str) -> None:
        spec = self._llm(name)
        if not spec.remote:  # a platform endpoint has nothing to load
            self.load(spec)  # refuses (and keeps the old default) when no worker can load it
        self.serving.default_model = spec.name

    def load(self, spec: ModelSpec) -> None:
        """Load on every llm worker; refused when none of them could."""
        results = self._on_each_worker(load_model, spec)
        failed = {w: r for w, r in results.items() if isinstance(r, BaseException)}
        for worker in results:
            if worker in failed:
                self.errors[(spec.name, worker)] = repr(failed[worker])
            else:
                self.errors.pop((spec.name, worker), None)
        if failed and len(failed) == len(results):
            raise PermanentError(
                f"no worker could load {spec.name!r}: {next(iter(failed.values()))!r}",
                code="model_load_failed",
            )

    def unload(self, name: str) -> None:
        self._llm(name)
        if name == self.serving.default_model:
            raise PermanentError(
                f"{name!r} is the default model: set another default first", code="model_in_use"
            )
        self._on_each_worker(unload_model, name)

    # --- plumbing ---------------------------------------------------------------------------

    def _llm(self, name: str) -> ModelSpec:
        try:
            spec = self.serving.registry.get(name)
        except UnknownModel as exc:
            raise PermanentError(str(exc), code="unknown_model") from exc
        if spec.kind != "llm":
            raise PermanentError(
                f"{name!r} is an {spec.kind} model; the embedding worker serves those",
                code="wrong_model_kind",
            )
        return spec

    def _llm_workers(self) -> list[str]:
        workers = self.cluster.client.scheduler_info()["workers"]
        return sorted(
            address for address, info in workers.items() if info.get("resources", {}).get(RESOURCE)
        )

    def _worker_states(self) -> dict[str, dict]:
        workers = self._llm_workers()
        if not workers:
            return {}
        try:
            states = self.cluster.client.run(model_state, workers=workers, on_error="return")
        except CLUSTER_ERRORS as exc:
            raise TransientError(f"Dask cluster: {exc!r}") from exc
        return {w: s for w, s in states.items() if isinstance(s, dict) and s["llm"]}

    def _on_each_worker(self, task, *args) -> dict[str, object]:
        """Run ``task`` once on each llm worker (as an llm task); result or exception by worker."""
        workers = self._llm_workers()
        if not workers:
            raise TransientError("no Dask worker has the llm resource")
        client = self.cluster.client
        futures = {
            w: client.submit(
                task,
                *args,
                workers=[w],
                allow_other_workers=False,
                resources={RESOURCE: 1},
                pure=False,
            )
            for w in workers
        }
        try:
            wait(list(futures.values()), timeout=self.timeout_s)
        except CLUSTER_ERRORS as exc:
            raise TransientError(f"Dask cluster: {exc!r}") from exc
        return {w: f.exception() if f.status == "error" else f.result() for w, f in futures.items()}
