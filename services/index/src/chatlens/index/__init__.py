"""Chatlens index service: per-collection Git repositories of immutable FAISS segments, and search.

Modules: ``config`` (settings), ``service`` (the composition root shared by ``__main__`` and the
tests), ``handlers`` (bus message -> work), ``ingest`` (staging and sealing jobs into segments),
``search`` (exact top-k over every live segment), ``storage`` (atomic files, Git, segments,
manifests, the on-disk layout).
"""
