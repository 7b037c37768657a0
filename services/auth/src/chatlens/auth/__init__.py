"""Chatlens auth service: users, orgs, memberships and refresh-token families.

It signs short-lived access JWTs with its private key and publishes the public key as JWKS, so the
other services verify tokens locally. The composition root is :func:`chatlens.auth.app.create_app`.
"""
