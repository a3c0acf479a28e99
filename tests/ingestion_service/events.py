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
