"""The event contract: one pydantic model per topic, the single source of truth for what a message may hold.

Producers build a model and send `to_json(event)`; consumers call `parse(Model, raw)`. The JSON Schema of each
model is committed under `schemas/` for people who type events by hand (`payments schemas` rewrites it).

Amounts are exact: JSON numbers are read straight into `Decimal` (pydantic's own JSON reader goes through a
binary float, which would turn 0.10000000000000000001 into 0.1 and let it pass), and written back from the
Decimal's own digits.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from payments_core.errors import BadInput
from payments_core.fields import (
    Amount,
    CurrencyAlpha,
    CurrencyNumeric,
    Flag,
    Id,
    LineNumber,
    Status,
    Text,
    Timestamp,
    Username,
)

__all__ = [
    "MAX_MESSAGE_BYTES",
    "ContractError",
    "ImportRowEvent",
    "bad_character",
    "PaymentEvent",
    "Reason",
    "parse",
    "reasons_from",
    "safe_text",
    "to_json",
]

# A payment event is a few hundred bytes; anything far larger is a mistake, not a payment.
MAX_MESSAGE_BYTES = 64 * 1024
# What a refusal keeps: enough reasons and enough of each input to act on, bounded whatever the message holds.
MAX_REASONS = 50
MAX_INPUT_TEXT = 300
MAX_MESSAGE_TEXT = 2000

Event = TypeVar("Event", bound=BaseModel)


def _differs_from(other: str):
    """A field validator: the field must differ from `other`, validated before it (a payment to oneself)."""

    def check(cls, value: Any, info: ValidationInfo) -> Any:
        if value == info.data.get(other):
            # The one rule of an event that its JSON Schema cannot state.
            raise PydanticCustomError("same_party", f"{info.field_name} must differ from {other}")
        return value

    return classmethod(check)


class _Contract(BaseModel):
    """Base of every event: unknown fields are rejected so that a misspelt field never passes silently. Each field
    type removes the spaces around a text itself (fields.py), as its published pattern allows."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PaymentEvent(_Contract):
    """A payment on `payments-events`, in the format already in public use; from the generator or typed by hand."""

    transaction_id: Id
    sender_id: Id = Field(description="user_id of the paying user")
    receiver_id: Id = Field(description="user_id of the paid user; must differ from sender_id")
    amount: Amount
    currency_code: CurrencyNumeric = Field(description="ISO 4217 numeric code, e.g. 840 for USD")
    timestamp: Timestamp
    status: Status

    _receiver_is_not_sender = field_validator("receiver_id")(_differs_from("sender_id"))


class ImportRow(_Contract):
    """One row of an uploaded CSV file, in the importer's column format."""

    username_sender: Username
    username_receiver: Username
    amount: Amount
    currency: CurrencyAlpha = Field(description="ISO 4217 alphabetic code, e.g. USD")
    transaction_date: Timestamp
    status: Status

    _receiver_is_not_sender = field_validator("username_receiver")(_differs_from("username_sender"))


class ImportRowEvent(ImportRow):
    """A CSV row on `import-payments-events`, with what the importer adds to trace it back to its file."""

    transaction_id: Id = Field(description="deterministic: the same row of the same file gives the same id")
    import_id: Id
    source_file: Text
    line_number: LineNumber = Field(description="the row's line in the file; the header is line 1")
    is_suspicious: Flag = Field(description="amount above SUSPICIOUS_AMOUNT_THRESHOLD when imported")


class Reason(BaseModel):
    """Why a message was refused, for one field (`field` is empty for the message as a whole).

    `code` is a short, fixed word for counting (pydantic's error type, or one of the platform's: `empty`,
    `too_large`, `not_utf8`, `not_json`, `not_object`, `duplicate_key`, `bad_character`, `unknown_user`,
    `unknown_currency`, `key_mismatch`, `database`, `internal`); `message` is the sentence for a person.

    Every text in a Reason can be stored and sent anywhere: characters that PostgreSQL or UTF-8 cannot hold
    (NUL, lone surrogates) are written as escapes, and long texts are cut, whatever the message held.
    """

    field: str
    code: str
    message: str
    input: Any = None

    @field_validator("field", "code", "message")
    @classmethod
    def _storable(cls, value: str) -> str:
        return safe_text(value, MAX_MESSAGE_TEXT)

    @field_validator("input")
    @classmethod
    def _storable_input(cls, value: Any) -> Any:
        if isinstance(value, str):
            return safe_text(value, MAX_INPUT_TEXT)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
            return safe_text(str(value), MAX_INPUT_TEXT)  # beyond what JSON readers hold exactly
        return value

    def text(self) -> str:
        """The reason as a person reads it: `amount: Input should be greater than 0`, or the message alone."""
        return f"{self.field}: {self.message}" if self.field else self.message


class ContractError(BadInput):
    """A message that does not meet the contract; `reasons` says what is wrong, field by field (at most
    MAX_REASONS; a last one says how many more there were)."""

    def __init__(self, reasons: list[Reason]):
        if len(reasons) > MAX_REASONS:
            more = len(reasons) - MAX_REASONS + 1
            reasons = reasons[: MAX_REASONS - 1] + [
                Reason(field="", code="more", message=f"and {more} more problems of this message")
            ]
        self.reasons = reasons
        super().__init__("; ".join(f"{r.field or 'message'}: {r.message}" for r in reasons))


# Characters no field of the contract may hold: controls (PostgreSQL cannot store NUL in text, and no id, name
# or code has any reason to hold the others) and lone surrogates (not Unicode text; UTF-8 cannot encode them).
_BAD_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def bad_character(text: str) -> str | None:
    """The first character of `text` that no field may hold, as `U+0000`; None when there is none."""
    found = _BAD_CHARACTER.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def safe_text(text: str, limit: int = MAX_MESSAGE_TEXT) -> str:
    """`text` as any store can hold it: bad characters written as escapes (`\\u0000`), cut at `limit` characters."""
    if _BAD_CHARACTER.search(text):
        text = _BAD_CHARACTER.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bad_characters(data: dict) -> list[Reason]:
    """A reason for each key or text value that holds a character the contract refuses."""
    reasons = []
    for key, value in data.items():
        for where, text in (("its name", key), ("its value", value)):
            if isinstance(text, str) and (found := _BAD_CHARACTER.search(text)):
                reasons.append(Reason(
                    field=key, code="bad_character", input=value if isinstance(value, str) else None,
                    message=f"{where} holds the character U+{ord(found.group()):04X} at position {found.start()}; "
                            "control characters and lone surrogates are refused",
                ))
    return reasons


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        self.key = key


def _object(pairs: list[tuple[str, Any]]) -> dict:
    data = dict(pairs)
    if len(data) != len(pairs):
        seen = set()
        raise _DuplicateKey(next(k for k, _ in pairs if k in seen or seen.add(k)))
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number in JSON")


# One decoder for every message: json.loads with options would build a new one per call. A key given twice is
# refused: which one a reader keeps differs between readers, so the sender's meaning is unknown.
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_no_constant, object_pairs_hook=_object)
_BOM = b"\xef\xbb\xbf"


def parse(model: type[Event], raw: bytes | str) -> Event:
    """Validate one message against `model`.

    Raises ContractError, never anything else, for a message that is empty, too large, not UTF-8, not JSON,
    not an object, or whose fields do not meet the model.
    """
    if not raw or raw.isspace():
        raise ContractError([Reason(field="", code="empty", message="the message is empty")])
    if len(raw) > MAX_MESSAGE_BYTES:
        raise ContractError(
            [Reason(field="", code="too_large",
                    message=f"the message is {len(raw)} bytes; at most {MAX_MESSAGE_BYTES} are accepted")]
        )
    try:
        # Decoded here because json.loads would guess UTF-16 or UTF-32 from the bytes; a UTF-8 BOM is forgiven
        # (stripped by hand: the utf-8-sig codec is written in Python and was the slowest step of parsing).
        text = (raw[3:] if raw.startswith(_BOM) else raw).decode() if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise ContractError([Reason(field="", code="not_utf8", message="the message is not UTF-8 text")]) from None
    try:
        data = _DECODER.decode(text.lstrip("\ufeff"))
    except _DuplicateKey as e:
        reason = Reason(field=e.key, code="duplicate_key", message="the field is given more than once")
        raise ContractError([reason]) from None
    except RecursionError:
        reason = Reason(field="", code="not_json", message="the message is not valid JSON (nested too deeply)")
        raise ContractError([reason]) from None
    except ValueError as e:
        reason = Reason(field="", code="not_json", message=f"the message is not valid JSON ({e})")
        raise ContractError([reason]) from None
    if not isinstance(data, dict):
        raise ContractError(
            [Reason(field="", code="not_object",
                    message=f"the message should be a JSON object, not {type(data).__name__}")]
        )
    # A strict JSON reader refuses raw U+0000-U+001F inside strings, so only an escape (\t as well as \u0000), a
    # raw DEL or a raw non-ASCII character (C1) can bring one in: plain printable ASCII without a backslash, the
    # usual message, is not searched.
    may_hold_bad = not isinstance(raw, bytes) or "\\" in text or "\x7f" in text or not text.isascii()
    if may_hold_bad and (bad := _bad_characters(data)):
        raise ContractError(bad)
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise ContractError(reasons_from(e)) from None


def reasons_from(error: ValidationError) -> list[Reason]:
    """pydantic's per-field errors as Reasons a person can act on."""
    reasons = []
    for item in error.errors(include_url=False):
        field = ".".join(str(part) for part in item["loc"])
        message = "unknown field; check its spelling" if item["type"] == "extra_forbidden" else item["msg"]
        message = message.removeprefix("Value error, ")
        reasons.append(Reason(field=field, code=item["type"], message=message, input=_printable(item.get("input"))))
    return reasons


def _printable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (dict, list)):
        return None  # the whole payload is kept beside the reasons; no need to copy it
    return str(value)


def _json_value(value: Any) -> str:
    # The contract's field types only; anything else is a programming error, not data to guess at.
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (UUID, datetime)):
        return f'"{value.isoformat() if isinstance(value, datetime) else value}"'
    if value is None:
        return "null"
    raise TypeError(f"no JSON form for {type(value).__name__}")


def to_json(event: BaseModel) -> bytes:
    """The event as compact JSON, with amounts written as JSON numbers from their exact digits."""
    body = ",".join(f'"{name}":{_json_value(value)}' for name, value in event.__dict__.items())
    return ("{" + body + "}").encode()
