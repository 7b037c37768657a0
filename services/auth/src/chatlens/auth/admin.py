"""The admin CLI: ``python -m chatlens.auth admin ...``, or ``flask --app chatlens.auth.app admin``.

Commands run inside the auth app's context, on its database and key files, and write their own
audit events (``details.via = "cli"``).
"""

from __future__ import annotations

import json
from datetime import timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import select

from chatlens.auth import (
    accounts,
    audit,
    keys,
    orgs,
    password_resets,
    provider_secrets,
    runtime,
    sessions,
)
from chatlens.auth.errors import AuthError
from chatlens.auth.tables import Membership, Org, Role, User
from chatlens.shared.key_rotation import RotationError

group = AppGroup("admin", help="Administer users, orgs, roles, keys and the audit log.")
ROLES = click.Choice([role.value for role in Role])
CLI = {"via": "cli"}


def _user(session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == accounts.normalise_email(email)))
    if user is None:
        raise click.ClickException(f"no user {email}")
    return user


@group.command("create-user")
@click.argument("email")
@click.option("--name", default=None)
@click.password_option(help="prompted for when not given")
def create_user(email: str, name: str | None, password: str) -> None:
    """Create a user (and their personal org, which they own)."""
    rt = runtime.current()
    try:
        if len(password) < 12:
            raise click.ClickException("the password needs at least 12 characters")
        rt.password_policy.check(password, email, name)
        with rt.sessions() as session:
            account = accounts.register(session, rt.passwords, email, password, name)
            audit.record(
                session,
                "user.registered",
                org_id=account.org.id,
                actor_id=account.user.id,
                details=CLI,
            )
            session.commit()
    except AuthError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(json.dumps(account.as_dict()))


@group.command("create-org")
@click.argument("name")
@click.option("--owner", "owner_email", required=True, help="the email of its first owner")
def create_org(name: str, owner_email: str) -> None:
    with runtime.current().sessions() as session:
        created = orgs.create(session, _user(session, owner_email).id, name)
        audit.record(session, "org.created", org_id=created["id"], details=CLI)
        session.commit()
    click.echo(json.dumps(created))


@group.command("grant-role")
@click.argument("email")
@click.argument("org_id")
@click.argument("role", type=ROLES)
def grant_role(email: str, org_id: str, role: str) -> None:
    """Make EMAIL a member of ORG_ID with ROLE (or change their role); their sessions end."""
    with runtime.current().sessions() as session:
        user = _user(session, email)
        if session.get(Org, org_id) is None:
            raise click.ClickException(f"no org {org_id}")
        membership = session.get(Membership, {"user_id": user.id, "org_id": org_id})
        old_role = membership.role if membership else None
        if old_role == "owner" and role != "owner" and orgs.owner_count(session, org_id) <= 1:
            raise click.ClickException(
                f"{email} is the last owner of {org_id}; make another member owner first"
            )
        if membership is None:
            session.add(Membership(user_id=user.id, org_id=org_id, role=role))
        else:
            membership.role = role
        sessions.end_all(session, user.id, reason="role granted by an admin")
        audit.record(
            session,
            "role.changed",
            org_id=org_id,
            target=user.id,
            role=role,
            old_role=old_role,
            details=CLI,
        )
        session.commit()
    click.echo(f"{email} is {role} in {org_id}")


@group.command("disable")
@click.argument("email")
def disable(email: str) -> None:
    """Disable an account; every session of it ends at once."""
    _set_disabled(email, True)


@group.command("enable")
@click.argument("email")
def enable(email: str) -> None:
    _set_disabled(email, False)


def _set_disabled(email: str, disabled: bool) -> None:
    with runtime.current().sessions() as session:
        user = _user(session, email)
        accounts.set_disabled(session, user.id, disabled)
        audit.record(
            session, "user.disabled" if disabled else "user.enabled", target=user.id, details=CLI
        )
        session.commit()
    click.echo(f"{email} {'disabled' if disabled else 'enabled'}")


@group.command("reset-link")
@click.argument("email")
def reset_link(email: str) -> None:
    """Print a single-use password-reset link for EMAIL (when no SMTP server sends e-mail)."""
    rt = runtime.current()
    with rt.sessions() as session:
        user = _user(session, email)
        token = password_resets.issue(
            session, user.id, timedelta(seconds=rt.settings.password_reset_ttl_s)
        )
        audit.record(
            session, "password.reset_requested", actor_id=user.id, target=user.id, details=CLI
        )
        session.commit()
    click.echo(password_resets.link(rt.settings.public_url, token))


@group.command("grant-platform-admin")
@click.argument("email")
def grant_platform_admin(email: str) -> None:
    """Make EMAIL a platform administrator (model administration for every org)."""
    _set_platform_admin(email, True)


@group.command("revoke-platform-admin")
@click.argument("email")
def revoke_platform_admin(email: str) -> None:
    """Take the platform role away; the user's sessions end, so no token keeps it."""
    _set_platform_admin(email, False)


def _set_platform_admin(email: str, granted: bool) -> None:
    with runtime.current().sessions() as session:
        user = _user(session, email)
        user.platform_admin = granted
        # A token says platform_admin for its whole life: end the sessions either way, so the
        # next token carries the new state.
        sessions.end_all(session, user.id, reason="platform role changed by an admin")
        audit.record(
            session,
            "platform_admin.granted" if granted else "platform_admin.revoked",
            target=user.id,
            details=CLI,
        )
        session.commit()
    click.echo(f"{email} is {'now' if granted else 'no longer'} a platform administrator")


@group.command("rotate-key")
def rotate_key() -> None:
    """Retire the signing key and start signing with a new one (both stay in the JWKS)."""
    rt = runtime.current()
    old, new = keys.rotate(rt.settings.key_path)
    with rt.sessions() as session:
        audit.record(session, "signing_key.rotated", target=new, old_kid=old, details=CLI)
        session.commit()
    click.echo(f"retired {old}; signing with {new}")


@group.command("rotate-secrets-key")
@click.option("--drop-old", is_flag=True, help="remove the old keys once all is re-encrypted")
@click.option(
    "--no-new-key",
    is_flag=True,
    help="add no key: re-encrypt under the key file's first key (a file auth may not write, "
    "such as a Kubernetes Secret you have updated and remounted)",
)
def rotate_secrets_key(drop_old: bool, no_new_key: bool) -> None:
    """A new Fernet key for provider and TOTP secrets; every secret is re-encrypted with it."""
    rt = runtime.current()
    try:
        report = provider_secrets.rotate(rt.sessions, rt.secret_box, drop_old, not no_new_key)
    except (RotationError, OSError) as error:
        raise click.ClickException(str(error)) from error
    with rt.sessions() as session:
        audit.record(
            session,
            "secrets_key.rotated",
            count=report.reencrypted,
            dropped_old=report.dropped_old,
            details=CLI,
        )
        session.commit()
    click.echo(f"re-encrypted {report.reencrypted} secrets")
    if report.unreadable:
        click.echo(f"{len(report.unreadable)} decrypt with no key: {', '.join(report.unreadable)}")


@group.command("audit")
@click.option("--org", "org_id", default=None, help="only this org's events")
@click.option("--event", default=None, help="only this event, e.g. login.failed")
@click.option("--limit", default=50, type=click.IntRange(1, 10_000))
def list_audit(org_id: str | None, event: str | None, limit: int) -> None:
    """The newest audit events as JSON lines."""
    with runtime.current().sessions() as session:
        for row in audit.events(session, org_id, limit, event=event):
            click.echo(json.dumps(row))
