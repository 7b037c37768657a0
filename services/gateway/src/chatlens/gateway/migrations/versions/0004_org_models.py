"""org endpoints (OpenAI-compatible providers), default models per org, usage per org and model

Revision ID: 0004_org_models
Revises: 0003_summaries
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_org_models"
down_revision = "0003_summaries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_endpoints",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("org_id", sa.String(64), nullable=False, index=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("base_url", sa.String(2000), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("secret", sa.String(64)),
        sa.Column("context_length", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("org_id", "name", name="uq_model_endpoints_org_name"),
    )
    op.create_table(
        "model_defaults",
        sa.Column("org_id", sa.String(64), primary_key=True),
        sa.Column("answers", sa.String(200)),
        sa.Column("summaries", sa.String(200)),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "model_usage",
        sa.Column("org_id", sa.String(64), primary_key=True),
        sa.Column("model", sa.String(200), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("requests", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("prompt_tokens", sa.Integer, nullable=False),
        sa.Column("completion_tokens", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("model_usage")
    op.drop_table("model_defaults")
    op.drop_table("model_endpoints")
