"""Field types of the event contract, shared by both topics' models.

Each type is strict where a wrong guess would corrupt money or time, and forgiving only where the meaning cannot
change: spaces (U+0020) around a value, the case of a status or currency code, a digit string for a currency code.

The published JSON Schema and the service accept exactly the same values: each text is checked against one
pattern, written once here, that is both the schema's `pattern` and the service's first check (a test runs both on
generated values). Patterns use ASCII classes only (`[0-9]`, never `\\d`, which Python lets match any script's
digits). Two rules JSON Schema cannot state are the service's alone: a time must lie between EARLIEST and a day
from now, and a payment's two parties must differ.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BeforeValidator, Field, StrictBool, WithJsonSchema
from pydantic_core import PydanticCustomError

__all__ = [
    "EARLIEST",
    "LATEST_AHEAD",
    "STATUSES",
    "Amount",
    "CurrencyAlpha",
    "CurrencyNumeric",
    "Flag",
    "Id",
    "LineNumber",
    "Status",
    "Text",
    "Timestamp",
    "Username",
    "parse_timestamp",
]

STATUSES = ("pending", "completed", "failed")

# The plausible window of a payment's time: none is older than this, none later than this far ahead of now
# (room for clocks that run a little fast). A year-1 or year-9999 date is a mistake, never a payment.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_AHEAD = timedelta(days=1)

# --- the patterns, for the schema and the service alike ---------------------------------------------------------
# Each ends `$(?!\n)`: in Python's `re` (and so in Python's JSON Schema validators) `$` also matches before a final
# newline; the look-ahead makes it the end of the text there too, and changes nothing in ECMA-262's regexes.

_HEX = "[0-9a-fA-F]"
ID_PATTERN = rf"^ *{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}} *$(?!\n)"
NIL_ID_PATTERN = r"^ *0{8}-0{4}-0{4}-0{4}-0{12} *$(?!\n)"
# Greater than 0, at most 2 decimals, below 10,000,000,000: "1520.50", "0.5", "12"; zeros after them change nothing
# ("12.50000", as a spreadsheet may save it).
AMOUNT_PATTERN = r"^ *([1-9][0-9]{0,9}(\.[0-9]{1,2}0*)?|0\.([1-9][0-9]?|0[1-9])0*) *$(?!\n)"
CURRENCY_NUMERIC_PATTERN = r"^ *[1-9][0-9]{0,2} *$(?!\n)"
CURRENCY_ALPHA_PATTERN = r"^ *[A-Za-z]{3} *$(?!\n)"
STATUS_PATTERN = "^ *(" + "|".join("".join(f"[{c.upper()}{c}]" for c in s) for s in STATUSES) + ") *$(?!\\n)"
# A date that exists (29 February in leap years only: divisible by 4, and by 400 at a century), a time of day with
# seconds and at most 6 decimals, and a zone (Z, z, " UTC" or ±hh:mm) or none (UTC): RFC 3339 with `T`, `t` or a
# space between. (Year 0000 matches, and is refused with the range.)
_LEAP_YEAR = "([0-9]{2}(0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00)"
_DATE = ("([0-9]{4}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)"
         f"|02-(0[1-9]|1[0-9]|2[0-8]))|{_LEAP_YEAR}-02-29)")
TIMESTAMP_PATTERN = (rf"^ *{_DATE}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{{1,6}})?"
                     r"([Zz]| UTC|[+-]([01][0-9]|2[0-3]):[0-5][0-9])? *$(?!\n)")
# Free text (a username, a file name) of `most` characters, spaces around it forgiven: no control character
# (U+0000-U+001F, U+007F-U+009F) and no lone surrogate anywhere, and neither end a space.
_TEXT_CHAR = r"[^\u0000-\u001f\u007f-\u009f\ud800-\udfff]"
_TEXT_END = r"[^\u0000-\u0020\u007f-\u009f\ud800-\udfff]"


def text_pattern(most: int) -> str:
    return rf"^ *{_TEXT_END}({_TEXT_CHAR}{{0,{most - 2}}}{_TEXT_END})? *$(?!\n)"


def _matching(pattern: str, code: str, message: str):
    """A before-validator: a text must match `pattern` (then its surrounding spaces go); other types pass on.
    `code` is pydantic's own for that kind of error, so that counts by reason read as before."""
    compiled = re.compile(pattern)

    def check(value: Any) -> Any:
        if isinstance(value, str):
            if not compiled.match(value):
                raise PydanticCustomError(code, message)
            return value.strip(" ")
        return value

    return check


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
    # adjusted() is read, not computed: arithmetic overflows on such numbers. Its bound keeps 1e-999999999 out; a
    # whole number written with many zeros after the point (840.000…0) is as long as its text, at most 64 KiB.
    if isinstance(value, Decimal) and (not value.is_finite() or not 0 <= value.adjusted() < 18):
        raise PydanticCustomError("int_out_of_range", "Input should be a whole number from 1 to 10**18")
    return value


_TIMESTAMP = re.compile(TIMESTAMP_PATTERN)
_TOO_FINE = re.compile(r"[0-9]:[0-5][0-9]\.[0-9]{7,}")


def parse_timestamp(value: Any) -> datetime:
    """An RFC 3339 date and time (`T`, `t` or a space between), or `2025-07-07 01:42:05 UTC`, in UTC; a value
    without a zone is UTC.

    Raises a pydantic error for anything else: a bare date, a time without seconds, more than 6 decimals of a
    second (named, never cut), a number (seconds or milliseconds since 1970 cannot be told apart, so a number is
    never guessed at), and a time outside EARLIEST .. now + LATEST_AHEAD.
    """
    if isinstance(value, datetime):
        parsed = value
    else:
        if not isinstance(value, str):
            raise PydanticCustomError(
                "timestamp_type", "Input should be an RFC 3339 date and time as text, e.g. 2025-07-07T01:42:05Z"
            )
        if not _TIMESTAMP.match(value):
            if _TOO_FINE.search(value):
                raise PydanticCustomError("timestamp_precision", "Input should have at most 6 decimals of a second "
                                          "(microseconds); more are refused, not cut")
            raise PydanticCustomError(
                "timestamp_format",
                "Input should be a date and time like 2025-07-07T01:42:05Z or 2025-07-07 01:42:05 UTC",
            )
        try:
            parsed = _from_match(value.strip(" "))
        except ValueError:  # year 0000, which Python's dates do not have
            parsed = None
    try:
        # A zone can push a valid local time past year 9999 or before year 1: OverflowError, not a crash.
        moment = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (AttributeError, OverflowError, ValueError):
        moment = None
    latest = datetime.now(UTC) + LATEST_AHEAD
    if moment is None or not EARLIEST <= moment <= latest:
        raise PydanticCustomError(
            "timestamp_out_of_range",
            "Input should be a time between {earliest} and a day from now (UTC)",
            {"earliest": EARLIEST.strftime("%Y-%m-%d")},
        )
    return moment


def _from_match(text: str) -> datetime:
    """The datetime of a text TIMESTAMP_PATTERN matched, spaces around it removed."""
    if text.endswith(" UTC"):
        text = text[: -len(" UTC")] + "+00:00"
    return datetime.fromisoformat(f"{text[:10]}T{text[11:].replace('z', 'Z')}")


def _not_nil(value: UUID) -> UUID:
    if value.int == 0:
        raise PydanticCustomError("nil_uuid", "Input should be an id, not the nil UUID (all zeros)")
    return value


def _lower_status(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


# Greater than zero, cents at most, and within NUMERIC(12,2); never NaN or Infinity. A JSON number is read exactly
# (contract.py), so the schema's multipleOf holds exactly too for a validator that reads numbers exactly.
Amount = Annotated[
    Decimal,
    Field(gt=0, max_digits=12, decimal_places=2, allow_inf_nan=False),
    BeforeValidator(_matching(AMOUNT_PATTERN, "decimal_parsing",
                              "Input should be a decimal number like 1520.50: ASCII digits, at most 2 decimals, "
                              "greater than 0 and below 10,000,000,000")),
    BeforeValidator(_no_bool),
    WithJsonSchema(
        {
            "description": "greater than 0, at most 2 decimals, below 10,000,000,000; a JSON number or a decimal "
                           "string of ASCII digits",
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0, "maximum": 9999999999.99, "multipleOf": 0.01},
                {"type": "string", "pattern": AMOUNT_PATTERN},
            ],
            "examples": [1520.5, "1520.50"],
        }
    ),
]
Status = Annotated[
    Literal["pending", "completed", "failed"],
    BeforeValidator(_lower_status),
    BeforeValidator(_matching(STATUS_PATTERN, "literal_error", "Input should be 'pending', 'completed' or 'failed'")),
    WithJsonSchema({"type": "string", "pattern": STATUS_PATTERN, "description": "pending, completed or failed, "
                    "in any case", "examples": ["completed"]}),
]
Timestamp = Annotated[
    datetime,
    BeforeValidator(parse_timestamp),
    WithJsonSchema(
        {
            "type": "string",
            "description": "RFC 3339 date and time (T, t or a space between; seconds required; at most 6 decimals), "
                           "or 2025-07-07 01:42:05 UTC; a value without a zone is UTC; from 2000-01-01 to a day "
                           "from now (the service checks that range)",
            "pattern": TIMESTAMP_PATTERN,
            "examples": ["2025-07-07T01:42:05.123456+00:00", "2025-07-07 01:42:05 UTC"],
        }
    ),
]
CurrencyNumeric = Annotated[
    int,
    Field(ge=1, le=999),
    BeforeValidator(_matching(CURRENCY_NUMERIC_PATTERN, "int_parsing",
                              "Input should be an ISO 4217 numeric code like 840")),
    BeforeValidator(_whole_number),
    WithJsonSchema({"description": "ISO 4217 numeric code, e.g. 840 for USD; a number or a string of digits",
                    "anyOf": [{"type": "integer", "minimum": 1, "maximum": 999},
                              {"type": "string", "pattern": CURRENCY_NUMERIC_PATTERN}],
                    "examples": [840]}),
]
CurrencyAlpha = Annotated[
    str,
    BeforeValidator(_upper),
    BeforeValidator(_matching(CURRENCY_ALPHA_PATTERN, "string_pattern_mismatch",
                              "Input should be an ISO 4217 alphabetic code like USD")),
    WithJsonSchema({"type": "string", "pattern": CURRENCY_ALPHA_PATTERN,
                    "description": "ISO 4217 alphabetic code, e.g. USD, in any case", "examples": ["USD"]}),
]


def _text(most: int, example: str) -> Any:
    """Free text of 1 to `most` characters once the spaces around it are removed."""
    pattern = text_pattern(most)
    return Annotated[
        str,
        BeforeValidator(_matching(pattern, "string_pattern_mismatch",
                                  f"Input should be 1 to {most} characters, without control characters")),
        WithJsonSchema({"type": "string", "pattern": pattern, "examples": [example]}),
    ]


Username = _text(150, "jdoe")
Text = _text(255, "regular_transactions.csv")
Id = Annotated[
    UUID,
    BeforeValidator(_matching(ID_PATTERN, "uuid_parsing",
                              "Input should be a UUID like 3f2b8c1e-9d4a-4c55-8a31-2b7e5f0c9d11")),
    AfterValidator(_not_nil),
    WithJsonSchema({"type": "string", "pattern": ID_PATTERN, "not": {"pattern": NIL_ID_PATTERN}}),
]


def _no_text(value: Any) -> Any:
    if isinstance(value, str):
        raise PydanticCustomError("int_type", "Input should be a whole number, not text")
    return value


# A line of a file, as the database's INTEGER holds it: a JSON number.
LineNumber = Annotated[int, Field(ge=1, le=2**31 - 1), BeforeValidator(_whole_number), BeforeValidator(_no_text),
                       WithJsonSchema({"type": "integer", "minimum": 1, "maximum": 2**31 - 1})]
Flag = StrictBool
