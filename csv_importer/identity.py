"""A row's transaction_id, from what the payment is rather than from where it stands in a file.

The id of a row without a `transaction_id` of its own is a UUID (version 5) of its normalised sender, receiver,
amount, currency and transaction date, and of its occurrence among the rows of the file with that same payment
(the first is 1). Normalised, so that a file saved again by another program gives the same ids: fields trimmed,
the amount as a number (`1234.50` = `1234.5`), the currency in capitals, the date as an instant in UTC
(`2025-07-07 01:42:05 UTC` = `2025-07-07T03:42:05+02:00`). The status is not part of it: a payment that was
`pending` in one file and is `completed` in a later one is the same payment, and the later file updates it.

A value that is not a valid amount or date is kept as it is written: the ingestion service refuses the row.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

__all__ = ["NAMESPACE", "derived_id", "payment_key", "text_of"]

# Fixed for ever: every id derived by an importer, past or future, depends on it.
NAMESPACE = uuid.UUID("6d1f3a52-8c0e-4f5b-9a57-2b1de4c0a9e1")
_PREFIX = NAMESPACE.bytes
# Numbers beyond this exponent are no amount; written out they could take gigabytes (`1e999999999`).
_MAX_EXPONENT = 40


def _amount(text: str) -> str:
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return text
    if not number.is_finite() or abs(number.adjusted()) > _MAX_EXPONENT:
        return text
    if not number:
        return "0"
    return f"{number.normalize():f}"


def _instant(text: str) -> str:
    # The contract's reading of a date (payments_core.fields.parse_timestamp) without its range check.
    written = text[: -len(" UTC")] + "+00:00" if text.endswith(" UTC") else text
    try:
        moment = datetime.fromisoformat(written)
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return text
    return moment.isoformat()


def payment_key(sender: str, receiver: str, amount: str, currency: str, date: str) -> str:
    """The payment a row describes, normalised (fields already trimmed)."""
    return "\x1f".join((sender, receiver, _amount(amount), currency.upper(), _instant(date)))


def derived_id(key: str, occurrence: int) -> bytes:
    """The 16 bytes of the UUID (version 5, in NAMESPACE) of the `occurrence`-th row of the file with `key`."""
    digest = bytearray(hashlib.sha1(_PREFIX + f"{key}\x1f{occurrence}".encode(errors="surrogatepass")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    return bytes(digest)


def text_of(id_bytes: bytes) -> str:
    """The canonical text of a UUID given as 16 bytes (faster than str(uuid.UUID(bytes=…)))."""
    h = id_bytes.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
