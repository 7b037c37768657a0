"""The gateway's application layer: one function per use case (search, ask, summarise, …).

A use case takes typed inputs and what it talks to (:class:`~.ports.Backends`: the RPC port, the
database sessions, the settings, the clock), does the work, and returns a typed result or raises
an :mod:`~.errors` exception. It knows nothing of Flask or HTTP: the views in ``api/`` parse a
request, call one use case and serialise its result, and ``chatlens.gateway.http_errors`` is the
one table that turns these exceptions into statuses.
"""
