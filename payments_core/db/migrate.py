"""Running the Alembic migrations from code (the `payments migrate` command, the local stack and the tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from payments_core.resources import data_path

__all__ = ["alembic_config", "downgrade", "upgrade"]

def alembic_config(database_url: str) -> Config:
    """Alembic's configuration for the project's migrations, pointed at `database_url`."""
    config = Config(str(data_path("alembic.ini")))
    config.attributes["database_url"] = str(database_url)
    config.attributes["configure_logging"] = False
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)
