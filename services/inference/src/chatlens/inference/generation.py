"""LLM generation on a Dask worker, with each model loaded once per worker.

:class:`LlmPlugin` is a Dask worker plugin: the service registers it, every worker that has the
``llm`` resource loads the preloaded models in ``setup`` and keeps them on the plugin, with one
batching :class:`~chatlens.inference.engine.Engine` per model, which the service's
:class:`~chatlens.inference.engine.EngineActor` reaches through
``get_worker().plugins[PLUGIN_NAME]``. Prompts go through the model's own chat template.
Nothing here knows about the bus; this module is what a Dask worker image must be able to import.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import torch
from distributed import WorkerPlugin

from chatlens.inference.engine import Engine
from chatlens.inference.registry import ModelSpec

log = logging.getLogger(__name__)

PLUGIN_NAME = "chatlens-llm"
RESOURCE = "llm"


class PromptTooLong(ValueError):
    """Prompt plus requested answer exceed the model's context length."""


@dataclass(frozen=True)
class Completion:
    model: str
    text: str
    tokens: int
    seconds: float
    prompt_tokens: int = 0
    finish_reason: str = "stop"


@dataclass(frozen=True)
class LoadedModel:
    tokenizer: Any
    model: Any
    device: torch.device


def cpu_threads() -> int:
    """CPUs this process may run on (the affinity mask, which containers and taskset narrow)."""
    return max(1, len(os.sched_getaffinity(0)))


def default_torch_threads() -> int:
    """Every CPU but one: the decode loop's own Python work, the service's handler threads and
    the bus need a core, and torch's idle OpenMP threads spin on the one they would use. On 2
    cores, 1 thread measured faster than 2 for one request (23.4 against 21.3 tokens/s) and for
    8 at once through the whole path (82 against 74 tokens/s)."""
    return max(1, cpu_threads() - 1)


def load(spec: ModelSpec) -> LoadedModel:
    """Load a registry LLM with transformers, from its local files only."""
    # Set before transformers (and huggingface_hub) is first imported: they read it once.
    os.environ["HF_HUB_OFFLINE"] = "1"
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    # Progress bars would break the JSON-lines log. This silences the Hub's; the GGUF loader's
    # own tqdm bar obeys only TQDM_DISABLE=1, read when tqdm is imported (set in the images).
    hf_logging.disable_progress_bar()
    location = spec.location()
    device = _device(spec.device)
    dtype = _dtype(spec.dtype, device)
    started = time.perf_counter()
    kwargs = {"gguf_file": location.gguf_file, "local_files_only": True}
    tokenizer = AutoTokenizer.from_pretrained(location.directory, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(location.directory, dtype=dtype, **kwargs)
    model.to(device).eval()
    loaded = LoadedModel(tokenizer, model, device)
    # The first generate() pays seconds of one-off kernel and allocator set-up (about 2.5 s on
    # 2 CPU cores): pay it here, not in the first user's request.
    complete(spec, loaded, "Hi", None, max_new_tokens=2)
    log.info(
        "model loaded",
        extra={
            "model": spec.name,
            "device": str(device),
            "dtype": str(dtype),
            "seconds": round(time.perf_counter() - started, 2),
        },
    )
    return loaded


def chat_turns(prompt: str, system: str | None) -> list[dict[str, str]]:
    """A prompt and an optional system text as the turns a chat template reads."""
    turns = [{"role": "user", "content": prompt}]
    if system:
        turns.insert(0, {"role": "system", "content": system})
    return turns


def prompt_ids(tokenizer: Any, turns: list[dict[str, str]]) -> list[int]:
    """The conversation as the model was trained to read it: its chat template, ending with the
    assistant's turn to speak."""
    encoded = tokenizer.apply_chat_template(
        turns, add_generation_prompt=True, tokenize=True, return_dict=True
    )
    return list(encoded["input_ids"])


def check_context(spec: ModelSpec, prompt_tokens: int, max_new_tokens: int) -> None:
    if prompt_tokens + max_new_tokens > spec.context_length:
        raise PromptTooLong(
            f"{prompt_tokens} prompt tokens + {max_new_tokens} new tokens exceed "
            f"{spec.name}'s context of {spec.context_length}"
        )


def complete(
    spec: ModelSpec, loaded: LoadedModel, prompt: str, system: str | None, max_new_tokens: int
) -> Completion:
    """Greedy-decode one answer with ``model.generate``, outside the batching engine: the
    reference the engine is tested and benchmarked against, and the load's warm-up."""
    started = time.perf_counter()
    tokenizer = loaded.tokenizer
    ids = prompt_ids(tokenizer, chat_turns(prompt, system))
    check_context(spec, len(ids), max_new_tokens)
    with torch.inference_mode():
        output = loaded.model.generate(
            torch.tensor([ids], device=loaded.device),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            attention_mask=torch.ones((1, len(ids)), dtype=torch.long, device=loaded.device),
            pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
        )
    new_tokens = output[0, len(ids) :]
    text = tokenizer.decode(new_tokens, skip_special_tokens=True).strip()
    return Completion(
        spec.name,
        text,
        int(new_tokens.shape[0]),
        time.perf_counter() - started,
        prompt_tokens=len(ids),
        finish_reason="length" if new_tokens.shape[0] >= max_new_tokens else "stop",
    )


class LlmPlugin(WorkerPlugin):
    """Holds a worker's loaded models: the preloaded ones from ``setup``, others on first use."""

    name = PLUGIN_NAME
    # A second service replica registering the plugin must not make every worker reload.
    idempotent = True

    def __init__(
        self, preload: list[ModelSpec], threads: int = 0, max_batch: int = 16, niceness: int = 0
    ) -> None:
        self.preload = list(preload)
        self.threads = threads
        self.max_batch = max_batch
        self.niceness = niceness
        self.loads: Counter[str] = Counter()

    async def setup(self, worker) -> None:
        self._lock = threading.Lock()
        self._models: dict[str, tuple[tuple, LoadedModel]] = {}
        self.engines: dict[str, Engine] = {}
        self.enabled = RESOURCE in worker.state.total_resources
        if not self.enabled:
            log.info("worker has no llm resource; loading nothing", extra={"worker": worker.name})
            return
        torch.set_num_threads(self.threads or default_torch_threads())
        for spec in self.preload:
            # Off the worker's event loop: a load takes seconds to minutes, and a blocked loop
            # misses heartbeats (with a LocalCluster it is also the scheduler's loop).
            await asyncio.to_thread(self.model, spec)

    def model(self, spec: ModelSpec) -> LoadedModel:
        """The loaded model for ``spec``, loading it now if this worker has not yet."""
        if not self.enabled:
            raise RuntimeError("this Dask worker has no llm resource")
        # Only what decides the weights counts: a registry edit of context_length does not
        # reload, one that points the name at other files replaces the old copy.
        identity = (spec.source, spec.gguf_file, spec.dtype, spec.device)
        with self._lock:
            cached = self._models.get(spec.name)
            if cached is None or cached[0] != identity:
                self._models.pop(spec.name, None)  # free the old copy before loading the new
                cached = self._models[spec.name] = (identity, load(spec))
                self.loads[spec.name] += 1
            return cached[1]

    def engine(self, spec: ModelSpec) -> Engine:
        """The batching engine of ``spec`` on this worker, started with its (re)load."""
        loaded = self.model(spec)
        with self._lock:
            engine = self.engines.get(spec.name)
            if engine is None or engine.loaded is not loaded:
                if engine is not None:
                    engine.stop()  # the model was reloaded: its requests end as cancelled
                engine = self.engines[spec.name] = Engine(
                    spec.name, loaded, self.max_batch, niceness=self.niceness
                )
            return engine

    def loaded(self) -> list[str]:
        """The names of the models this worker holds now."""
        with self._lock:
            return sorted(self._models)

    def unload(self, name: str) -> bool:
        """Drop this worker's copy of ``name`` and stop its engine; False if it had none."""
        with self._lock:
            engine = self.engines.pop(name, None)
            removed = self._models.pop(name, None) is not None
        if engine is not None:
            engine.stop()
        return removed

    def teardown(self, worker) -> None:
        for engine in self.engines.values():
            engine.stop()
        self.engines.clear()
        self._models.clear()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def load_counts(dask_worker) -> dict[str, int]:
    """How many times this worker loaded each model (for ``Client.run``: diagnostics, tests)."""
    plugin = dask_worker.plugins.get(PLUGIN_NAME)
    return dict(plugin.loads) if plugin is not None else {}


def _device(requested: str) -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)


def _dtype(requested: str, device: torch.device) -> torch.dtype:
    if requested != "auto":
        return getattr(torch, requested)
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    # Half precision is slow or unsupported in many CPU kernels; a 135M model fits in float32.
    return torch.float32
