"""Settings of the local stack behind `make up` (see .env.example)."""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, field_validator

from payments_core.settings import ServicePorts, SetupSettings

__all__ = ["AdminAccount", "PlatformSetupSettings", "StackSettings"]


class AdminAccount(SetupSettings):
    """The web app's first account (role importer), made by `make up` and compose's setup when it is missing; an
    existing account is never changed. Unset: no account is made."""

    importer_admin_username: str | None = Field(None, min_length=1, max_length=150)
    importer_admin_password: SecretStr | None = Field(None, min_length=12)


class PlatformSetupSettings(AdminAccount):
    """What `payments setup` prepares: topics, schema, seed data, bucket, and the first account.

    Under docker compose it also checks POSTGRES_PASSWORD, which compose writes into DATABASE_URL as it is: a
    character such as `@ : / # ? %` would break the URL in ways that name no cause."""

    postgres_password: SecretStr | None = None

    @field_validator("postgres_password")
    @classmethod
    def _fits_in_a_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9._~-]+", value.get_secret_value()):
            raise ValueError("may hold letters, digits and - . _ ~ only: it goes into DATABASE_URL as it is")
        return value


class StackSettings(AdminAccount, ServicePorts):
    """Everything the local stack starts or connects to. Each service reads its own settings when it starts; the
    stack needs the importer's secret only to know whether it can start the importer."""

    importer_secret_key: SecretStr | None = Field(None, min_length=16)
