"""Chatlens inference service: the model registry and LLM generation on the Dask cluster.

Modules: ``config`` (settings), ``registry`` (models.toml), ``generation`` (what runs on a Dask
worker: loading once per worker, generating), ``cluster`` (submitting work to Dask), ``handlers``
(RPC requests to work), ``__main__`` (the composition root).
"""
