"""The auth service's public routes in the gateway's OpenAPI document.

One view (``auth_proxy.auth``) relays every ``/api/v1/auth/*`` call, so spectree alone would
document a single wildcard. ``OPERATIONS`` lists what auth really serves behind it, with its
bodies from ``auth_http_models``; ``add_to`` swaps the wildcard for those operations. The table
is checked against the running auth service by ``tests/test_auth_openapi.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chatlens.gateway.api import auth_http_models as m
from chatlens.gateway.api.http_models import Error

WILDCARD = "/api/v1/auth/{rest}"
REF = "#/components/schemas/{model}"
BEARER, PUBLIC, OPTIONAL = "bearer", "public", "optional"
TOKEN_EXAMPLE = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IjRmN2MiLCJ0eXAiOiJKV1QifQ."
    "eyJzdWIiOiJ1c2VyLTEiLCJvcmciOiJvcmctMSIsInJvbGUiOiJvd25lciJ9.c2lnbmF0dXJl"
)
EXAMPLES: dict[type[BaseModel], dict[str, Any]] = {
    m.RegisterRequest: {
        "email": "ada@example.com",
        "password": "a long and uncommon passphrase",
        "name": "Ada",
    },
    m.LoginRequest: {"email": "ada@example.com", "password": "a long and uncommon passphrase"},
    m.RefreshRequest: {"refresh_token": "rt_3q2-7wBd0kTQ9yHn4mX1"},
    m.TokenPair: {
        "access_token": TOKEN_EXAMPLE,
        "refresh_token": "rt_3q2-7wBd0kTQ9yHn4mX1",
        "token_type": "Bearer",
        "expires_in": 900,
    },
    m.Account: {
        "id": "6b1f…",
        "email": "ada@example.com",
        "name": "Ada",
        "org": {"id": "0c9e…", "name": "Ada's org", "role": "owner"},
    },
}
# The web app's cookie mode (api/browser_session.py): what the header does on each route.
COOKIE_MODE = {
    "name": "X-Chatlens-Session",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "enum": ["cookie"]},
    "description": "`cookie` (the web app): the refresh token is kept in an HttpOnly cookie "
    "instead of the body; refresh spends the cookie's token; logout clears it. "
    "Needs a same-origin Origin (else 403 cross_origin).",
}


@dataclass(frozen=True)
class Operation:
    """One route of auth: what it takes, what it answers and who may call it."""

    method: str
    path: str
    summary: str
    tag: str
    ok: int = 200
    answer: type[BaseModel] | tuple[type[BaseModel], ...] | None = None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    auth: str = BEARER
    body_optional: bool = False


def _ops() -> list[Operation]:
    o = Operation
    return [
        o(
            "post",
            "/api/v1/auth/register",
            "Create a user and their personal org",
            "auth",
            201,
            m.Account,
            m.RegisterRequest,
            errors=(409,),
            auth=PUBLIC,
        ),
        o(
            "post",
            "/api/v1/auth/login",
            "A token pair for an email and password (and TOTP)",
            "auth",
            200,
            m.TokenPair,
            m.LoginRequest,
            errors=(401, 429),
            auth=PUBLIC,
        ),
        o(
            "post",
            "/api/v1/auth/refresh",
            "Spend a refresh token for a new pair",
            "auth",
            200,
            m.TokenPair,
            m.RefreshRequest,
            errors=(401,),
            auth=PUBLIC,
        ),
        o(
            "post",
            "/api/v1/auth/logout",
            "End this session (and a given refresh token's)",
            "auth",
            204,
            None,
            m.LogoutRequest,
            body_optional=True,
        ),
        o("post", "/api/v1/auth/logout-all", "End every session of the caller", "auth", 204),
        o(
            "post",
            "/api/v1/auth/password",
            "Change the password; a new pair for this device",
            "auth",
            200,
            m.TokenPair,
            m.PasswordChangeRequest,
            errors=(401, 429),
        ),
        o(
            "post",
            "/api/v1/auth/password-reset",
            "Ask for a password-reset link by e-mail "
            "(202 whether or not the address has an account)",
            "auth",
            202,
            m.PasswordResetAccepted,
            m.PasswordResetRequest,
            errors=(429,),
            auth=PUBLIC,
        ),
        o(
            "post",
            "/api/v1/auth/password-reset/confirm",
            "Set a new password with a reset link's token; every session ends",
            "auth",
            204,
            None,
            m.PasswordResetConfirm,
            errors=(400,),
            auth=PUBLIC,
        ),
        o("get", "/api/v1/me", "The signed-in user in the token's org", "auth", 200, m.Me),
        o(
            "get",
            "/api/v1/auth/jwks.json",
            "The public signing keys (JWK set)",
            "auth",
            200,
            m.Jwks,
            auth=PUBLIC,
        ),
        o(
            "get",
            "/api/v1/auth/mfa",
            "Whether TOTP is on, and recovery codes left",
            "mfa",
            200,
            m.MfaStatus,
        ),
        o(
            "post",
            "/api/v1/auth/mfa/totp",
            "Start TOTP enrollment (secret, URI, QR code)",
            "mfa",
            201,
            m.TotpEnrollment,
            errors=(409,),
        ),
        o(
            "post",
            "/api/v1/auth/mfa/totp/confirm",
            "Turn TOTP on with a code",
            "mfa",
            200,
            m.TokenPairWithCodes,
            m.CodeRequest,
            errors=(401, 404, 429),
        ),
        o(
            "post",
            "/api/v1/auth/mfa/totp/disable",
            "Turn TOTP off with password and code",
            "mfa",
            200,
            m.TokenPair,
            m.MfaDisableRequest,
            errors=(401, 404, 429),
        ),
        o(
            "post",
            "/api/v1/auth/mfa/recovery-codes",
            "New recovery codes for a TOTP code",
            "mfa",
            200,
            m.RecoveryCodes,
            m.CodeRequest,
            errors=(401, 404, 429),
        ),
        o(
            "get",
            "/api/v1/auth/oauth/providers",
            "The sign-in providers configured",
            "oauth",
            200,
            m.OAuthProviders,
            auth=PUBLIC,
        ),
        o(
            "get",
            "/api/v1/auth/oauth/{name}/start",
            "The provider's sign-in URL (with a bearer token: link the provider to that user)",
            "oauth",
            200,
            m.OAuthStart,
            errors=(404,),
            auth=OPTIONAL,
        ),
        o(
            "get",
            "/api/v1/auth/oauth/{name}/callback",
            "The provider sends the browser back: a token pair, or {linked} for a link",
            "oauth",
            200,
            (m.TokenPair, m.OAuthLinked),
            errors=(400, 404),
            auth=PUBLIC,
        ),
        o(
            "get",
            "/api/v1/auth/oauth/identities",
            "The provider accounts linked to the caller",
            "oauth",
            200,
            m.OAuthIdentities,
        ),
        o(
            "post",
            "/api/v1/auth/oauth/identities/{name}/unlink",
            "Unlink a provider from the caller (the password confirms it)",
            "oauth",
            204,
            None,
            m.UnlinkRequest,
            errors=(401, 404, 429),
        ),
        o("get", "/api/v1/auth/orgs", "My orgs and my role in each", "orgs", 200, m.OrgList),
        o(
            "post",
            "/api/v1/auth/orgs",
            "Create an org owned by the caller",
            "orgs",
            201,
            m.OrgRole,
            m.CreateOrgRequest,
        ),
        o(
            "post",
            "/api/v1/auth/switch",
            "Spend a refresh token for a pair in another org",
            "orgs",
            200,
            m.TokenPair,
            m.SwitchOrgRequest,
            errors=(401, 404),
            auth=PUBLIC,
        ),
        o(
            "get",
            "/api/v1/auth/members",
            "The active org's members",
            "members",
            200,
            m.MemberList,
            errors=(403,),
        ),
        o(
            "patch",
            "/api/v1/auth/members/{user_id}",
            "Change a member's role",
            "members",
            200,
            m.RoleChanged,
            m.RoleRequest,
            errors=(403, 404, 409),
        ),
        o(
            "delete",
            "/api/v1/auth/members/{user_id}",
            "Remove a member",
            "members",
            204,
            errors=(403, 404, 409),
        ),
        o(
            "get",
            "/api/v1/auth/invitations",
            "Pending invitations",
            "invitations",
            200,
            m.InvitationList,
            errors=(403,),
        ),
        o(
            "post",
            "/api/v1/auth/invitations",
            "Invite an email with a role (token shown once)",
            "invitations",
            201,
            m.InvitationCreated,
            m.InvitationRequest,
            errors=(403, 409),
        ),
        o(
            "delete",
            "/api/v1/auth/invitations/{invitation_id}",
            "Revoke an invitation",
            "invitations",
            204,
            errors=(403, 404),
        ),
        o(
            "post",
            "/api/v1/auth/invitations/accept",
            "Join the invitation's org",
            "invitations",
            200,
            m.InvitationAccepted,
            m.AcceptInvitationRequest,
            errors=(403, 404, 409),
        ),
        o(
            "get",
            "/api/v1/auth/api-keys",
            "The org's API keys with their last use",
            "api-keys",
            200,
            m.ApiKeyList,
            errors=(403,),
        ),
        o(
            "post",
            "/api/v1/auth/api-keys",
            "Create an API key (shown once)",
            "api-keys",
            201,
            m.ApiKeyCreated,
            m.ApiKeyRequest,
            errors=(403,),
        ),
        o(
            "delete",
            "/api/v1/auth/api-keys/{key_id}",
            "Revoke an API key",
            "api-keys",
            204,
            errors=(403, 404),
        ),
        o(
            "get",
            "/api/v1/auth/secrets",
            "The org's provider secrets (hints only)",
            "secrets",
            200,
            m.SecretList,
            errors=(403,),
        ),
        o(
            "put",
            "/api/v1/auth/secrets/{name}",
            "Store a provider secret, encrypted",
            "secrets",
            200,
            m.Secret,
            m.SecretRequest,
            errors=(403, 404),
        ),
        o(
            "delete",
            "/api/v1/auth/secrets/{name}",
            "Delete a provider secret",
            "secrets",
            204,
            errors=(403, 404),
        ),
        o(
            "get",
            "/api/v1/auth/sessions",
            "The caller's live sessions",
            "sessions",
            200,
            m.SessionList,
        ),
        o(
            "delete",
            "/api/v1/auth/sessions/{session_id}",
            "End one of the caller's sessions",
            "sessions",
            204,
            errors=(404,),
        ),
        o(
            "get",
            "/api/v1/auth/audit",
            "The org's audit log, newest first",
            "audit",
            200,
            m.AuditPage,
            query=m.AuditQuery,
            errors=(403,),
        ),
    ]


OPERATIONS = _ops()


def add_to(document: dict[str, Any]) -> dict[str, Any]:
    """Replace the proxy's wildcard in ``document`` by every auth operation, in place."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    names = _schemas(schemas)
    document["paths"].pop(WILDCARD, None)
    for op in OPERATIONS:
        document["paths"].setdefault(op.path, {})[op.method] = _operation(op, names)
    known = {tag["name"] for tag in document.setdefault("tags", [])}
    for tag in dict.fromkeys(op.tag for op in OPERATIONS):
        if tag not in known:
            document["tags"].append({"name": tag})
    return document


def _models() -> list[type[BaseModel]]:
    seen: dict[type[BaseModel], None] = {Error: None}
    for op in OPERATIONS:
        answers = op.answer if isinstance(op.answer, tuple) else (op.answer,)
        for model in (*answers, op.body):
            if model is not None:
                seen[model] = None
    return list(seen)


def _schemas(schemas: dict[str, Any]) -> dict[Any, str]:
    """Add the models' JSON schemas (as ``Auth…`` components); their names by model."""
    models = _models()
    keys, top = models_json_schema(
        [(model, "validation" if model in _requests() else "serialization") for model in models],
        ref_template=REF.replace("{model}", "Auth{model}"),
    )
    for name, schema in top.get("$defs", {}).items():
        schemas["Auth" + name] = schema
    names = {}
    for (model, _mode), ref in keys.items():
        name = ref["$ref"].rsplit("/", 1)[1]
        if model in EXAMPLES:
            schemas[name]["examples"] = [EXAMPLES[model]]
        names[model] = name
    return names


def _requests() -> set[type[BaseModel]]:
    return {op.body for op in OPERATIONS if op.body is not None}


def _ref(names: dict[type[BaseModel], str], model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=names[model])}


def _operation(op: Operation, names: dict[type[BaseModel], str]) -> dict[str, Any]:
    # 503: auth (or its database) cannot be reached, or every password-hashing slot is taken
    # (``busy``, with Retry-After: a sign-in storm).
    statuses = set(op.errors) | {503}
    if op.auth != PUBLIC:
        statuses.add(401)
    if op.body is not None:
        statuses |= {400, 413, 422}
    if op.query is not None:
        statuses.add(422)
    if op.path.startswith("/api/v1/auth/"):
        statuses.add(403)  # cookie mode from another origin
    responses: dict[str, Any] = {str(op.ok): _ok(op, names)}
    for status in sorted(statuses):
        responses[str(status)] = {
            "description": HTTPStatus(status).phrase,
            "content": {"application/json": {"schema": _ref(names, Error)}},
        }
    operation: dict[str, Any] = {
        "summary": op.summary,
        "operationId": f"auth_{op.method}_{re.sub(r'[^a-z0-9]+', '_', op.path[8:]).strip('_')}",
        "description": "Relayed to the auth service.",
        "tags": [op.tag],
        "parameters": _parameters(op),
        "responses": responses,
    }
    if op.auth == PUBLIC:
        operation["security"] = []
    elif op.auth == OPTIONAL:
        operation["security"] = [{}, {"bearer": []}]
    if op.body is not None:
        # In cookie mode the refresh token comes from the cookie, so refresh needs no body.
        optional = op.body_optional or op.path == "/api/v1/auth/refresh"
        operation["requestBody"] = {
            "required": not optional,
            "content": {"application/json": {"schema": _ref(names, op.body)}},
        }
    return operation


def _ok(op: Operation, names: dict[type[BaseModel], str]) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": HTTPStatus(op.ok).phrase}
    if op.answer is None:
        return answer
    if isinstance(op.answer, tuple):
        schema: dict[str, Any] = {"oneOf": [_ref(names, model) for model in op.answer]}
    else:
        schema = _ref(names, op.answer)
    answer["content"] = {"application/json": {"schema": schema}}
    return answer


def _parameters(op: Operation) -> list[dict[str, Any]]:
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": m.ID_MAX},
        }
        for name in re.findall(r"{(\w+)}", op.path)
    ]
    if op.path.startswith("/api/v1/auth/"):  # only the relayed routes know the cookie mode
        parameters.append(COOKIE_MODE)
    if op.query is not None:
        schema = op.query.model_json_schema()
        for name, field in schema["properties"].items():
            parameters.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in schema.get("required", []),
                    "schema": field,
                }
            )
    return parameters
