"""Running the gateway's alembic migrations from code (and ``python -m chatlens.gateway
migrate``), under the shared migration lock: gateways starting together migrate one at a time.
"""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from sqlalchemy.engine import Connection, Engine

from chatlens.shared import migrations

MIGRATIONS = Path(__file__).parent / "migrations"
LOCK_NAME = "chatlens_gateway_migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    """An alembic Config for the packaged tree; ``connection`` is handed to env.py."""
    return migrations.alembic_config(MIGRATIONS, connection)


def upgrade(engine: Engine, revision: str = "head") -> None:
    migrations.upgrade(engine, MIGRATIONS, LOCK_NAME, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    migrations.downgrade(engine, MIGRATIONS, LOCK_NAME, revision)
