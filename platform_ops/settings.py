"""Settings of the local stack behind `make up` (see .env.example)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from payments_core.settings import ServicePorts, SetupSettings

__all__ = ["StackSettings"]


class StackSettings(SetupSettings, ServicePorts):
    """Everything the local stack starts or connects to. Each service reads its own settings when it starts; the
    stack needs the importer's secret only to know whether it can start the importer."""

    importer_secret_key: SecretStr | None = Field(None, min_length=16)
