"""summaries, and the filters an answer's retrieval used

Revision ID: 0003_summaries
Revises: 0002_answers
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_summaries"
down_revision = "0002_answers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("answers", sa.Column("filters", sa.JSON, nullable=True))
    op.create_table(
        "summaries",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("org_id", sa.String(64), nullable=False, index=True),
        sa.Column(
            "collection_id",
            sa.String(32),
            sa.ForeignKey("collections.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("filters", sa.JSON, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("citations", sa.JSON, nullable=False),
        sa.Column("chunks", sa.Integer, nullable=False),
        sa.Column("messages", sa.Integer, nullable=False),
        sa.Column("model", sa.String(200)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_summaries_collection", "summaries", ["collection_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_summaries_collection", table_name="summaries")
    op.drop_table("summaries")
    op.drop_column("answers", "filters")
