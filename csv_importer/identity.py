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
import re
import uuid
from datetime import UTC, datetime
from decimal import Context, Decimal, InvalidOperation

__all__ = ["NAMESPACE", "derived_id", "payment_key", "text_of"]

# Fixed for ever: every id derived by an importer, past or future, depends on it.
NAMESPACE = uuid.UUID("6d1f3a52-8c0e-4f5b-9a57-2b1de4c0a9e1")
_PREFIX = NAMESPACE.bytes
# Numbers beyond this exponent are no amount; written out they could take gigabytes (`1e999999999`).
_MAX_EXPONENT = 40
# RFC 4122 layout: version 5 in bits 76-79, variant 10 in bits 62-63.
_KEEP = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
_VERSION_5 = (0x5 << 76) | (0x2 << 62)


# The usual forms, normalised by string operations (a tenth of the time of parsing): `12.50`, `2025-07-07 01:42:05
# UTC`, `2025-07-07T01:42:05Z`. Anything else is parsed. Both ways give the same text for the same value.
_UTC_TIME = re.compile(r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?: UTC|Z|\+00:00)")


def _amount(text: str) -> str:
    if text[:1] not in "0." and text[-1:] not in "0." and text.isascii() and text.replace(".", "", 1).isdigit():
        return text  # digits with at most one dot, and no zero to drop: already as normal as it gets
    whole, _, fraction = text.partition(".")
    if whole.isdigit() and whole.isascii() and (fraction.isdigit() or not fraction) and len(text) < _MAX_EXPONENT:
        whole, fraction = whole.lstrip("0") or "0", fraction.rstrip("0")
        return f"{whole}.{fraction}" if fraction else whole
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return text
    if not number.is_finite() or abs(number.adjusted()) > _MAX_EXPONENT:
        return text
    if not number:
        return "0"
    # With as many digits as the number has: the default context's 28 would round a long amount, and two writings
    # of one number would then give two keys.
    return f"{number.normalize(Context(prec=max(28, len(number.as_tuple().digits)))):f}"


def _instant(text: str) -> str:
    utc = _UTC_TIME.fullmatch(text)
    if utc:
        return f"{utc[1]}T{utc[2]}+00:00"
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
    return f"{sender}\x1f{receiver}\x1f{_amount(amount)}\x1f{currency.upper()}\x1f{_instant(date)}"


def derived_id(key: str, occurrence: int) -> int:
    """The UUID (version 5, in NAMESPACE), as a 128-bit number, of the `occurrence`-th row of a file with `key`."""
    digest = hashlib.sha1(_PREFIX + f"{key}\x1f{occurrence}".encode(errors="surrogatepass")).digest()
    return (int.from_bytes(digest[:16]) & _KEEP) | _VERSION_5


def text_of(id_bytes: bytes | bytearray) -> str:
    """The canonical text of a UUID given as 16 bytes (faster than str(uuid.UUID(bytes=…)))."""
    h = id_bytes.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
