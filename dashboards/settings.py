"""Settings of the Metabase provisioning (`payments metabase-provision`)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from payments_core.settings import DatabaseSettings

__all__ = ["MetabaseSettings", "metabase_accepts"]


def metabase_accepts(password: str) -> str | None:
    """Why Metabase's first-run setup would refuse `password` as the admin's, or None. Its default rule
    (src/metabase/util/password.clj, complexity :normal): at least 6 characters and a digit; it also refuses the
    ~12,000 common passwords of its common_passwords.txt, which is not copied here: the provisioning names
    METABASE_ADMIN_PASSWORD when Metabase refuses one of those."""
    if len(password) < 6:
        return "Metabase needs at least 6 characters"
    if not any(c.isdigit() for c in password):
        return "Metabase needs a digit in it"
    return None


class MetabaseSettings(DatabaseSettings):
    metabase_url: str = Field("http://127.0.0.1:3000", pattern=r"^https?://")
    metabase_admin_email: str = Field(min_length=3)
    metabase_admin_password: SecretStr = Field(min_length=8)

    @field_validator("metabase_admin_password")
    @classmethod
    def _metabase_takes_it(cls, value: SecretStr) -> SecretStr:
        if why := metabase_accepts(value.get_secret_value()):
            raise ValueError(why)
        return value
    metabase_reader_user: str = Field("metabase_reader", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    metabase_reader_password: SecretStr = Field(min_length=8)
    # How Metabase reaches PostgreSQL, when not as DATABASE_URL says (in docker compose: postgres:5432).
    metabase_db_host: str | None = None
    metabase_db_port: int | None = Field(None, ge=1, le=65535)
