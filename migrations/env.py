"""Alembic environment: the URL comes from DATABASE_URL (or from the caller), the target is the models' metadata."""

from logging.config import fileConfig

from alembic import context
from sqlalchemy import pool

from payments_core.db.connect import make_engine
from payments_core.db.models import Base
from payments_core.settings import DatabaseSettings, load

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _url() -> str:
    # Set by payments_core.db.migrate (the `payments migrate` command and the tests); else the environment.
    return config.attributes.get("database_url") or load(DatabaseSettings).database_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
