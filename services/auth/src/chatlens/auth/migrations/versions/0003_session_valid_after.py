"""per-user "valid after", session address and user agent, revoked-at index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC_DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("sessions_valid_after", UTC_DATETIME, nullable=True))
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.add_column(sa.Column("address", sa.String(64), nullable=True))
        batch.add_column(sa.Column("user_agent", sa.String(255), nullable=True))
        batch.create_index(op.f("ix_refresh_tokens_revoked_at"), ["revoked_at"])


def downgrade() -> None:
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.drop_index(op.f("ix_refresh_tokens_revoked_at"))
        batch.drop_column("user_agent")
        batch.drop_column("address")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("sessions_valid_after")
