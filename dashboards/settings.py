"""Settings of the Metabase provisioning (`payments metabase-provision`)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from payments_core.settings import DatabaseSettings

__all__ = ["MetabaseSettings"]


class MetabaseSettings(DatabaseSettings):
    metabase_url: str = Field("http://127.0.0.1:3000", pattern=r"^https?://")
    metabase_admin_email: str = Field(min_length=3)
    metabase_admin_password: SecretStr = Field(min_length=8)
    metabase_reader_user: str = Field("metabase_reader", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    metabase_reader_password: SecretStr = Field(min_length=8)
    # How Metabase reaches PostgreSQL, when not as DATABASE_URL says (in docker compose: postgres:5432).
    metabase_db_host: str | None = None
    metabase_db_port: int | None = Field(None, ge=1, le=65535)
