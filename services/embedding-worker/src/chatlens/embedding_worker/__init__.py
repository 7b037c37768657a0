"""Chatlens embedding worker: turns uploaded chat exports into embedded message batches.

Modules: ``parsing`` (export formats to :class:`~chatlens.shared.schemas.ChatMessage`),
``chunking`` (time-gap sessions), ``embedding`` (all-MiniLM-L6-v2 on Dask, loaded once per
worker), ``handlers`` (bus messages to work), ``config`` and ``__main__`` (the composition root).
"""
