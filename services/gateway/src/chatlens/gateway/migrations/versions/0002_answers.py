"""answers: generated answers with their citations and index version

Revision ID: 0002_answers
Revises: 0001_collections_jobs_outbox
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_answers"
down_revision = "0001_collections_jobs_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("org_id", sa.String(64), nullable=False, index=True),
        sa.Column(
            "collection_id",
            sa.String(32),
            sa.ForeignKey("collections.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("citations", sa.JSON, nullable=False),
        sa.Column("model", sa.String(200)),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_answers_collection", "answers", ["collection_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_answers_collection", table_name="answers")
    op.drop_table("answers")
