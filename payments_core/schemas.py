"""The committed JSON Schema of each topic's event, written from the pydantic models (`payments schemas`)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from payments_core.contract import ImportRowEvent, PaymentEvent
from payments_core.resources import data_path

__all__ = ["SCHEMA_DIR", "TOPIC_MODELS", "render", "schema_path"]

SCHEMA_DIR = data_path("schemas")

# Keyed by the default topic name: the file name people look for.
TOPIC_MODELS: dict[str, type[BaseModel]] = {
    "payments-events": PaymentEvent,
    "import-payments-events": ImportRowEvent,
}


def schema_path(topic: str) -> Path:
    return SCHEMA_DIR / f"{topic}.schema.json"


def render(topic: str) -> str:
    """The JSON Schema text for `topic`'s model, as committed."""
    schema = TOPIC_MODELS[topic].model_json_schema(mode="validation")
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{topic}.schema.json",
        **schema,
    }
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
