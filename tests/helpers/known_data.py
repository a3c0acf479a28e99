"""Known data for the dashboards' questions: every number a question shows can be worked out by hand from here."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

from sqlalchemy import text

from payments_core.db.seed import seed_users
from payments_core.totals import refresh_totals

__all__ = ["ALICE", "BOB", "CAROL", "IMPORT_ID", "TRANSACTIONS", "insert_known"]

ALICE, BOB, CAROL = seed_users()[:3]
IMPORT_ID = uuid.uuid4()
D1, D2, D3 = "2025-07-01T10:00:00Z", "2025-07-02T10:00:00Z", "2025-07-03T10:00:00Z"
# (sender, receiver, amount, currency code, date, status, suspicious, source)
TRANSACTIONS = [
    (ALICE, BOB, "100.00", 840, D1, "completed", False, "generator"),
    (ALICE, BOB, "9000.00", 840, D2, "pending", True, "manual"),
    (BOB, CAROL, "50.50", 978, D2, "completed", False, "generator"),
    (CAROL, ALICE, "8000.01", 978, D3, "failed", True, "csv_import"),
    (BOB, ALICE, "10.00", 826, D3, "completed", False, "generator"),
]


def insert_known(engine):
    """Five transactions (two suspicious, one from an import), an import, two refusals and a conflicting version,
    in three days of July 2025; returns the engine."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO imports (import_id, file_name, sha256, s3_key, size_bytes, rows_read, "
                          "rows_unique, rows_duplicate, rows_suspicious, rows_malformed, rows_published, status) "
                          "VALUES (:id, 'july.csv', :sha, 'k', 10, 2, 2, 0, 1, 0, 2, 'published')"),
                     {"id": IMPORT_ID, "sha": "0" * 64})
        for sender, receiver, amount, currency, day, status, suspicious, source in TRANSACTIONS:
            imported = source == "csv_import"
            conn.execute(text(
                "INSERT INTO transactions (transaction_id, sender_id, receiver_id, amount, currency_code, "
                "transaction_date, status, is_suspicious, source, import_id, import_line) VALUES "
                "(:id, :s, :r, :a, :c, :d, :st, :sus, :src, :imp, :line)"),
                {"id": uuid.uuid4(), "s": sender.user_id, "r": receiver.user_id, "a": Decimal(amount), "c": currency,
                 "d": day, "st": status, "sus": suspicious, "src": source,
                 "imp": IMPORT_ID if imported else None, "line": 2 if imported else None})
        # What the ingestion service writes with the imported row: one row of the import decided.
        conn.execute(text("INSERT INTO import_progress (import_id, topic, partition, last_offset, rows_saved) "
                          "VALUES (:id, 'import-payments-events', 0, 0, 1)"), {"id": IMPORT_ID})
        refusals = [
            ("import-payments-events", IMPORT_ID, 3, [{"field": "username_sender", "code": "unknown_user",
                                                       "message": "unknown username 'x' in username_sender"}]),
            ("payments-events", None, None, [{"field": "amount", "code": "greater_than", "message": "> 0"},
                                             {"field": "status", "code": "literal_error", "message": "status"}]),
        ]
        for offset, (topic, import_id, line, reasons) in enumerate(refusals):
            conn.execute(text('INSERT INTO rejected_events (topic, partition, "offset", payload, payload_size, '
                              "reasons, import_id, import_line) VALUES (:t, 0, :o, :p, 1, CAST(:r AS jsonb), :i, :l)"),
                         {"t": topic, "o": offset, "p": b"x", "r": json.dumps(reasons), "i": import_id, "l": line})
        # Alice's completed payment of 1 July, later sent as failed: a conflict, recorded today.
        conn.execute(text(
            "INSERT INTO superseded_events (transaction_id, reason, stored_status, stored_date, incoming_status, "
            "incoming_date, topic, partition, \"offset\") SELECT transaction_id, 'conflict', 'completed', "
            "transaction_date, 'failed', transaction_date, 'payments-events', 0, 7 FROM transactions "
            "WHERE amount = 100.00"))
    with engine.begin() as conn:
        refresh_totals(conn)  # as the ingestion service does every few seconds
    return engine
