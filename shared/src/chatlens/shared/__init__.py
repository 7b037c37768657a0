"""Chatlens common package: what every service shares and nothing service-specific.

Modules: ``schemas`` (typed bus messages), ``topology`` (exchanges and queues, declared in one
place), ``bus`` (the one RabbitMQ implementation), ``settings`` (typed environment settings),
``logs`` (JSON lines with correlation ids), ``metrics`` and ``health`` (Prometheus and probes),
``models`` (where the packaged model files live).
"""
