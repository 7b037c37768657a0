"""answers: what the grounding check found (extractive, unsupported claims, disagreements)

Revision ID: 0005_answer_grounding
Revises: 0004_org_models
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_answer_grounding"
down_revision = "0004_org_models"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("answers", sa.Column("grounding", sa.JSON, nullable=True))


def downgrade() -> None:
    op.drop_column("answers", "grounding")
