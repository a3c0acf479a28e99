"""Every refusal the service makes, in one place, worded for the person who fixes the message.

Each stage only finds what is wrong: the contract (parse.py) refuses what it cannot read and says why in its own
reasons; parse.py also finds a key that is not the transaction's, resolve.py users and currencies the database does
not know, sink.py a row the database refused, and service.py a message on which the service itself failed. Each
calls a function here, which makes the refusal: its reasons, what refused it, and what can still be read of where
the message came from (its transaction, import and line), which the importer shows on the import's page.
"""

from __future__ import annotations

import json
from uuid import UUID

from payments_core.contract import Reason

from .database import first_line
from .records import Event, Refusal, Row, Source

__all__ = ["by_contract", "by_database", "internal", "key_mismatch", "unknown_references"]


def by_contract(source: Source, reasons: list[Reason]) -> Refusal:
    """The contract's refusal, with its reasons as they are."""
    return Refusal(source, reasons, "ContractError", **_provenance(source.value))


def key_mismatch(source: Source, transaction_id: str) -> Refusal:
    """A message whose key is set and is not its transaction_id: its versions could be read out of order."""
    shown = source.key[:80].decode(errors="replace")
    reason = Reason(field="key", code="key_mismatch", input=shown,
                    message=f"the message key {shown!r} is not its transaction_id {transaction_id}: versions of one "
                            "payment must share a key (or have none) to stay in order")
    return Refusal(source, [reason], "KeyMismatch", **_provenance(source.value))


def unknown_references(event: Event, unknown_users: list[tuple[str, str]], unknown_currency: bool) -> Refusal:
    """An event naming users (field, value) or a currency the database does not know, in the words of its topic:
    ids and a numeric code on payments-events, usernames and an alphabetic code on import-payments-events."""
    if event.import_id is None:
        reasons = [Reason(field=field, code="unknown_user", message=f"unknown {field} '{value}': no such user",
                          input=value) for field, value in unknown_users]
        currency = ("currency_code", f"unknown currency_code {event.currency}")
    else:
        reasons = [Reason(field=field, code="unknown_user", message=f"unknown username '{value}' in {field}",
                          input=value) for field, value in unknown_users]
        currency = ("currency", f"unknown currency '{event.currency}'")
    if unknown_currency:
        field, unknown = currency
        reasons.append(Reason(field=field, code="unknown_currency", input=event.currency,
                              message=f"{unknown}: not an ISO 4217 currency payments are made in"))
    return Refusal(event.source, reasons, "UnknownReference", transaction_id=event.transaction_id,
                   import_id=event.import_id, import_line=event.import_line)


def by_database(row: Row, source: Source, error: Exception) -> Refusal:
    """A row the database refused by itself (a constraint, a value out of range), with the error's first line."""
    reason = Reason(field="", code="database", message=f"the database refused the row: {first_line(error)}")
    return Refusal(source, [reason], type(error).__name__, transaction_id=row.transaction_id,
                   import_id=row.import_id, import_line=row.import_line)


def internal(item: Source | Event | Refusal, error: BaseException) -> Refusal:
    """The message on which the service itself failed, refused with reason code `internal` and the error, so that
    it is recorded and dead-lettered like any refusal instead of stopping the service."""
    reason = Reason(field="", code="internal",
                    message=f"the service failed on this message ({type(error).__name__}: {error}); "
                            "it was set aside so that the others go on")
    if isinstance(item, Source):
        return Refusal(item, [reason], "InternalError", **_provenance(item.value))
    return Refusal(item.source, [reason], "InternalError", transaction_id=item.transaction_id,
                   import_id=item.import_id, import_line=item.import_line)


def _provenance(raw: bytes) -> dict:
    """What can still be read of a refused message's identity (its transaction, import and line), if anything."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    found = {}
    for field, key in (("transaction_id", "transaction_id"), ("import_id", "import_id")):
        try:
            found[field] = str(UUID(str(data[key])))
        except (KeyError, ValueError):
            pass
    line = data.get("line_number")
    if isinstance(line, int) and not isinstance(line, bool) and 1 <= line <= 2**31 - 1:
        found["import_line"] = line
    return found
