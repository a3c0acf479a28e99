"""Building test messages from the seed users, as producers send them."""

import json
import uuid

from payments_core.db.seed import seed_users

USERS = seed_users()
ALICE, BOB, CAROL = USERS[0], USERS[1], USERS[2]


def payment(**changes) -> dict:
    event = {
        "transaction_id": str(uuid.uuid4()),
        "sender_id": str(ALICE.user_id),
        "receiver_id": str(BOB.user_id),
        "amount": 1520.5,
        "currency_code": 840,
        "timestamp": "2025-07-07T01:42:05.123456+00:00",
        "status": "pending",
    }
    return {**event, **changes}


def import_row(line=2, **changes) -> dict:
    row = {
        "username_sender": ALICE.username,
        "username_receiver": CAROL.username,
        "amount": "8500.00",
        "currency": "EUR",
        "transaction_date": "2025-07-07 01:42:05 UTC",
        "status": "completed",
        "transaction_id": str(uuid.uuid4()),
        "import_id": "6f1c3b7a-1d2e-4f5a-8b9c-0d1e2f3a4b5c",
        "source_file": "regular_transactions.csv",
        "line_number": line,
        "is_suspicious": True,
    }
    return {**row, **changes}


def message(event: dict) -> tuple[bytes, bytes]:
    """(key, value) as the platform's producers send it: keyed by transaction_id."""
    return event["transaction_id"].encode(), json.dumps(event).encode()


# The example of docs/event-contract.md and of the published schema, as a person would type it.
PUBLIC_EXAMPLE = (
    '{"transaction_id": "3f2b8c1e-9d4a-4c55-8a31-2b7e5f0c9d11", '
    '"sender_id": "a1ff384b-69c3-4a2f-b79a-11b7e3300927", '
    '"receiver_id": "7500ba87-da86-4125-848d-a3f123d9aa30", '
    '"amount": 1520.5, "currency_code": 840, '
    '"timestamp": "2025-07-07T01:42:05.123456+00:00", "status": "completed"}'
)


def example_import_row(**changes) -> dict:
    """An import row as the contract's tests know it: valid, suspicious, every field given."""
    row = {
        "username_sender": "pthompson",
        "username_receiver": "rpeterson",
        "amount": "8000.01",
        "currency": "USD",
        "transaction_date": "2025-07-07 01:42:05 UTC",
        "status": "pending",
        "transaction_id": "0b7d1f0c-4c2a-5e8e-9a55-3c1b9d1e2f10",
        "import_id": "6f1c3b7a-1d2e-4f5a-8b9c-0d1e2f3a4b5c",
        "source_file": "regular_transactions.csv",
        "line_number": 2,
        "is_suspicious": True,
    }
    return {**row, **changes}


def storable(value) -> bool:
    """Whether PostgreSQL's text and jsonb can hold every string in `value`: no NUL, no lone surrogate."""
    if isinstance(value, dict):
        return all(storable(k) and storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(storable(v) for v in value)
    if isinstance(value, str):
        return "\x00" not in value and not any("\ud800" <= c <= "\udfff" for c in value)
    return True
