"""Chatlens gateway: the public REST API in front of the services.

It verifies JWTs locally with auth's JWKS, owns collections, uploads and jobs, writes
``IngestRequested`` through a transactional outbox, follows job events from the bus, and answers
searches by asking the embedding worker and the index over RPC.
"""
