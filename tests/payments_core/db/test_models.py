"""The schema does what the platform relies on, on a real PostgreSQL."""

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from payments_core.db.models import Transaction
from payments_core.db.seed import seed_users

SENDER, RECEIVER = seed_users()[:2]


def transaction(**changes) -> dict:
    return {
        "transaction_id": uuid.uuid4(),
        "sender_id": SENDER.user_id,
        "receiver_id": RECEIVER.user_id,
        "amount": Decimal("1520.50"),
        "currency_code": 840,
        "transaction_date": "2025-07-07T01:42:05+00:00",
        "status": "pending",
        "source": "generator",
        **changes,
    }


def insert(engine, **changes) -> uuid.UUID:
    row = transaction(**changes)
    with engine.begin() as conn:
        conn.execute(Transaction.__table__.insert().values(row))
    return row["transaction_id"]


def fetch(engine, transaction_id):
    with engine.connect() as conn:
        return conn.execute(select(Transaction).where(Transaction.transaction_id == transaction_id)).one()


def test_an_update_moves_modified_at_and_keeps_created_at(engine):
    tid = insert(engine)
    before = fetch(engine, tid)

    with engine.begin() as conn:
        conn.execute(update(Transaction).where(Transaction.transaction_id == tid)
                     .values(status="completed", created_at=text("now() - interval '1 day'")))
    after = fetch(engine, tid)

    assert after.status == "completed"
    assert after.modified_at > before.modified_at
    assert after.created_at == before.created_at


def test_an_update_that_changes_nothing_leaves_modified_at(engine):
    tid = insert(engine)
    before = fetch(engine, tid)

    with engine.begin() as conn:
        conn.execute(update(Transaction).where(Transaction.transaction_id == tid).values(status="pending"))

    assert fetch(engine, tid).modified_at == before.modified_at


@pytest.mark.parametrize(
    "changes, constraint",
    [
        ({"amount": Decimal("0")}, "ck_transactions_amount_positive"),
        ({"receiver_id": SENDER.user_id}, "ck_transactions_sender_not_receiver"),
        ({"status": "done"}, "ck_transactions_status_known"),
        ({"source": "csv_import"}, "ck_transactions_import_provenance"),
        ({"currency_code": 1}, "fk_transactions_currency_code_currencies"),
        ({"sender_id": uuid.uuid4()}, "fk_transactions_sender_id_users"),
    ],
)
def test_the_database_refuses_what_the_contract_refuses(engine, changes, constraint):
    with pytest.raises(IntegrityError, match=constraint):
        insert(engine, **changes)


def test_an_import_row_keeps_where_it_came_from(engine):
    import_id = uuid.uuid4()

    tid = insert(engine, source="csv_import", import_id=import_id, import_line=7, is_suspicious=True)

    row = fetch(engine, tid)
    assert (row.source, row.import_id, row.import_line, row.is_suspicious) == ("csv_import", import_id, 7, True)
