"""Field types of the event contract, shared by both topics' models.

Each type is strict where a wrong guess would corrupt money or time, and forgiving only where the meaning
cannot change: surrounding spaces, the case of a status or currency code, a digit string for a number.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

__all__ = [
    "STATUSES",
    "Amount",
    "CurrencyAlpha",
    "CurrencyNumeric",
    "Status",
    "Timestamp",
    "Username",
    "parse_timestamp",
]

STATUSES = ("pending", "completed", "failed")


def _strip_lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _no_bool(value: Any) -> Any:
    # JSON `true` would otherwise pass as the number 1.
    if isinstance(value, bool):
        raise PydanticCustomError("number_type", "Input should be a number, not true or false")
    return value


def parse_timestamp(value: Any) -> datetime:
    """An ISO 8601 date and time, or `2025-07-07 01:42:05 UTC`; a value without a zone is UTC.

    Raises a pydantic error for anything else, including a bare date and a number (seconds or milliseconds
    since 1970 cannot be told apart, so a number is never guessed at).
    """
    if isinstance(value, datetime):
        parsed = value
    else:
        if not isinstance(value, str):
            raise PydanticCustomError(
                "timestamp_type", "Input should be an ISO 8601 date and time as text, e.g. 2025-07-07T01:42:05Z"
            )
        text = value.strip()
        if text.endswith(" UTC"):
            text = text[: -len(" UTC")] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = None
        if parsed is None or len(text) <= len("2025-07-07"):
            raise PydanticCustomError(
                "timestamp_format",
                "Input should be a date and time like 2025-07-07T01:42:05Z or 2025-07-07 01:42:05 UTC",
            )
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed


def _currency_alpha(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip().upper()
    return value


# Greater than zero, cents at most, and within NUMERIC(12,2); never NaN or Infinity.
Amount = Annotated[
    Decimal,
    Field(gt=0, max_digits=12, decimal_places=2, allow_inf_nan=False),
    BeforeValidator(_no_bool),
    WithJsonSchema(
        {
            "description": "greater than 0, at most 2 decimals, below 10,000,000,000; a number or a decimal string",
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0, "maximum": 9999999999.99, "multipleOf": 0.01},
                {"type": "string", "pattern": r"^\s*(0|[1-9][0-9]{0,9})(\.[0-9]{1,2})?\s*$"},
            ],
            "examples": [1520.5, "1520.50"],
        }
    ),
]
Status = Annotated[Literal["pending", "completed", "failed"], BeforeValidator(_strip_lower)]
Timestamp = Annotated[
    datetime,
    BeforeValidator(parse_timestamp),
    AfterValidator(lambda v: v.astimezone(UTC)),
    WithJsonSchema(
        {
            "type": "string",
            "description": "ISO 8601 date and time, or 2025-07-07 01:42:05 UTC; a value without a zone is UTC",
            "pattern": r"^\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|z| UTC|[+-]\d{2}(:?\d{2})?)?\s*$",
            "examples": ["2025-07-07T01:42:05.123456+00:00", "2025-07-07 01:42:05 UTC"],
        }
    ),
]
CurrencyNumeric = Annotated[int, Field(ge=1, le=999, examples=[840]), BeforeValidator(_no_bool)]
CurrencyAlpha = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["USD"]), BeforeValidator(_currency_alpha)]
Username = Annotated[str, Field(min_length=1, max_length=150, examples=["jdoe"])]
