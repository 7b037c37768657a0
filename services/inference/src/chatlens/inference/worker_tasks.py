"""Small Dask tasks on the ``llm`` workers besides generation: token counts, loads, unloads, state.

They work on the worker's :class:`~chatlens.inference.generation.LlmPlugin` (the one copy of each
model a worker holds). Loads and unloads are tasks, so they run in a worker thread, not on its
event loop; :func:`model_state` is quick and runs with ``Client.run``. Like ``generation``, this
module knows nothing about the bus.
"""

from __future__ import annotations

import gc

import torch
from distributed import get_worker

from chatlens.inference.generation import PLUGIN_NAME, LlmPlugin
from chatlens.inference.registry import ModelSpec


def _plugin() -> LlmPlugin:
    return get_worker().plugins[PLUGIN_NAME]


def count_tokens(spec: ModelSpec, texts: list[str]) -> list[int]:
    """Tokens of each text with the model's own tokenizer (no special tokens, no template)."""
    tokenizer = _plugin().model(spec).tokenizer
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]


def load_model(spec: ModelSpec) -> int:
    """Load ``spec`` on this worker unless it holds it already; how often it was loaded here."""
    plugin = _plugin()
    plugin.model(spec)
    return plugin.loads[spec.name]


def unload_model(name: str) -> bool:
    """Drop this worker's copy of ``name`` (loaded again on its next use); False if it had none."""
    removed = _plugin().unload(name)  # stops its batching engine too
    if removed:
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    return removed


def model_state(dask_worker) -> dict:
    """What this worker holds (for ``Client.run``): loaded names and load counts."""
    plugin = dask_worker.plugins.get(PLUGIN_NAME)
    if plugin is None or not getattr(plugin, "enabled", False):
        return {"llm": False, "loaded": [], "loads": {}}
    return {"llm": True, "loaded": plugin.loaded(), "loads": dict(plugin.loads)}
