"""The named permissions and the one table that maps each role to its permissions.

Access tokens carry the permissions of their role in the ``perms`` claim, so a verifier (the
gateway) checks ``"uploads:create" in claims["perms"]`` and never needs its own copy of this table.
API keys carry a subset of their creator's permissions, under the same names.
"""

from __future__ import annotations

from chatlens.auth.tables import Role

COLLECTIONS_READ = "collections:read"
COLLECTIONS_WRITE = "collections:write"
UPLOADS_CREATE = "uploads:create"
SEARCH_READ = "search:read"
ANSWERS_CREATE = "answers:create"
MEMBERS_READ = "members:read"
MEMBERS_MANAGE = "members:manage"
AUDIT_READ = "audit:read"
KEYS_MANAGE = "keys:manage"
SECRETS_MANAGE = "secrets:manage"
# A collection's webhooks send its events out, signed with a secret: their own permission, so
# that an API key can manage webhooks without the org's provider secrets, and the reverse.
WEBHOOKS_MANAGE = "webhooks:manage"
# Removing messages from a collection's whole history (a purge): irreversible, so admins only.
COLLECTIONS_PURGE = "collections:purge"

_VIEWER = frozenset({COLLECTIONS_READ, SEARCH_READ, ANSWERS_CREATE, MEMBERS_READ, KEYS_MANAGE})
_ANALYST = _VIEWER | {COLLECTIONS_WRITE, UPLOADS_CREATE}
_ADMIN = _ANALYST | {MEMBERS_MANAGE, AUDIT_READ, SECRETS_MANAGE, WEBHOOKS_MANAGE, COLLECTIONS_PURGE}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OWNER.value: _ADMIN,
    Role.ADMIN.value: _ADMIN,
    Role.ANALYST.value: _ANALYST,
    Role.VIEWER.value: _VIEWER,
}
ALL = frozenset().union(*ROLE_PERMISSIONS.values())

# Who may hand out which role: an admin manages analysts and viewers (and other admins), but
# only an owner makes, unmakes or removes an owner.
RANK = {Role.VIEWER.value: 0, Role.ANALYST.value: 1, Role.ADMIN.value: 2, Role.OWNER.value: 3}


def permissions_for(role: str) -> frozenset[str]:
    """The permissions of ``role``; an unknown role has none."""
    return ROLE_PERMISSIONS.get(role, frozenset())


def may_assign(actor_role: str, target_role: str) -> bool:
    """True when someone with ``actor_role`` may give (or take away) ``target_role``."""
    if target_role == Role.OWNER.value:
        return actor_role == Role.OWNER.value
    return MEMBERS_MANAGE in permissions_for(actor_role)
