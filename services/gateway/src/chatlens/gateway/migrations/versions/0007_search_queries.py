"""search_queries: every search and question asked of a collection (search analytics)

Revision ID: 0007_search_queries
Revises: 0006_webhooks
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_search_queries"
down_revision = "0006_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_queries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column(
            "collection_id",
            sa.String(32),
            sa.ForeignKey("collections.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("query", sa.String(500), nullable=False),
        sa.Column("results", sa.Integer, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index(
        "ix_search_queries_collection", "search_queries", ["collection_id", "created_at"]
    )
    op.create_index("ix_search_queries_created_at", "search_queries", ["created_at"])


def downgrade() -> None:
    op.drop_table("search_queries")
