"""append-only audit log

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
MESSAGE = "audit_events is append-only"


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("org_id", sa.String(36), nullable=True),
        sa.Column("actor_id", sa.String(36), nullable=True),
        sa.Column("target", sa.String(320), nullable=True),
        sa.Column("address", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(255), nullable=True),
        sa.Column("correlation_id", sa.String(64), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_event"), "audit_events", ["event"])
    op.create_index(op.f("ix_audit_events_org_id"), "audit_events", ["org_id"])
    # The services append; nothing rewrites history, not even a bug in auth.
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":  # PostgreSQL's triggers call a function; one serves both
        op.execute(
            "CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$ BEGIN "
            f"RAISE EXCEPTION '{MESSAGE}'; END $$ LANGUAGE plpgsql"
        )
    for action in ("UPDATE", "DELETE"):
        name = f"audit_events_no_{action.lower()}"
        if dialect == "postgresql":
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {action} ON audit_events FOR EACH ROW "
                "EXECUTE FUNCTION audit_events_append_only()"
            )
        elif dialect == "sqlite":
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {action} ON audit_events "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {action} ON audit_events FOR EACH ROW "
                f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{MESSAGE}'"
            )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for action in ("update", "delete"):
        # PostgreSQL names a trigger per table, the others per schema.
        on_table = " ON audit_events" if postgresql else ""
        op.execute(f"DROP TRIGGER IF EXISTS audit_events_no_{action}{on_table}")
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    op.drop_table("audit_events")
