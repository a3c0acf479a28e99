"""Field types of the event contract, shared by both topics' models.

Each type is strict where a wrong guess would corrupt money or time, and forgiving only where the meaning
cannot change: surrounding spaces, the case of a status or currency code, a digit string for a number.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

__all__ = [
    "EARLIEST",
    "LATEST_AHEAD",
    "STATUSES",
    "Amount",
    "CurrencyAlpha",
    "CurrencyNumeric",
    "Id",
    "LineNumber",
    "Status",
    "Timestamp",
    "Username",
    "parse_timestamp",
]

STATUSES = ("pending", "completed", "failed")

# The plausible window of a payment's time: none is older than this, none later than this far ahead of now
# (room for clocks that run a little fast). A year-1 or year-9999 date is a mistake, never a payment.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_AHEAD = timedelta(days=1)


def _strip_lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _no_bool(value: Any) -> Any:
    # JSON `true` would otherwise pass as the number 1.
    if isinstance(value, bool):
        raise PydanticCustomError("number_type", "Input should be a number, not true or false")
    return value


def _whole_number(value: Any) -> Any:
    """For an integer field: no bool, and a JSON number with a fraction or exponent (read as a Decimal) only
    when it is a modest number: pydantic would expand 1e999999999 or 1e-999999999 digit by digit, for hours,
    and a single message could stall the service.
    """
    value = _no_bool(value)
    # adjusted() and the exponent are read, not computed: arithmetic overflows on such numbers.
    if isinstance(value, Decimal) and (
        not value.is_finite() or not 0 <= value.adjusted() < 18 or value.as_tuple().exponent < -20
    ):
        raise PydanticCustomError("int_out_of_range", "Input should be a whole number from 1 to 10**18")
    return value


def parse_timestamp(value: Any) -> datetime:
    """An ISO 8601 date and time, or `2025-07-07 01:42:05 UTC`, in UTC; a value without a zone is UTC.

    Raises a pydantic error for anything else: a bare date, a number (seconds or milliseconds since 1970 cannot
    be told apart, so a number is never guessed at), and a time outside EARLIEST .. now + LATEST_AHEAD.
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
    try:
        # A zone can push a valid local time past year 9999 or before year 1: OverflowError, not a crash.
        moment = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        moment = None
    latest = datetime.now(UTC) + LATEST_AHEAD
    if moment is None or not EARLIEST <= moment <= latest:
        raise PydanticCustomError(
            "timestamp_out_of_range",
            "Input should be a time between {earliest} and a day from now (UTC)",
            {"earliest": EARLIEST.strftime("%Y-%m-%d")},
        )
    return moment


def _not_nil(value: UUID) -> UUID:
    if value.int == 0:
        raise PydanticCustomError("nil_uuid", "Input should be an id, not the nil UUID (all zeros)")
    return value


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
    WithJsonSchema(
        {
            "type": "string",
            "description": "ISO 8601 date and time, or 2025-07-07 01:42:05 UTC; a value without a zone is UTC; "
                           "from 2000-01-01 to a day from now",
            "pattern": r"^\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|z| UTC|[+-]\d{2}(:?\d{2})?)?\s*$",
            "examples": ["2025-07-07T01:42:05.123456+00:00", "2025-07-07 01:42:05 UTC"],
        }
    ),
]
CurrencyNumeric = Annotated[int, Field(ge=1, le=999, examples=[840]), BeforeValidator(_whole_number)]
CurrencyAlpha = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["USD"]), BeforeValidator(_currency_alpha)]
Username = Annotated[str, Field(min_length=1, max_length=150, examples=["jdoe"])]
Id = Annotated[
    UUID,
    AfterValidator(_not_nil),
    WithJsonSchema({"type": "string", "format": "uuid", "not": {"const": "00000000-0000-0000-0000-000000000000"}}),
]
# A line of a file, as the database's INTEGER holds it.
LineNumber = Annotated[int, Field(ge=1, le=2**31 - 1), BeforeValidator(_whole_number)]
