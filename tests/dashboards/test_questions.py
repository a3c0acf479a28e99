"""Every question of the dashboard, run on real PostgreSQL with known data: the numbers a person would read."""

import json
import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from dashboards.questions import load_dashboard, render
from payments_core.db.seed import seed_users

DASHBOARD = load_dashboard()
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


@pytest.fixture
def known(engine):
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
    return engine


def ask(engine, name, **filters):
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(render(DASHBOARD.questions[name].sql, filters))]


ALL_FILTERS = {"date_from": date(2025, 7, 1), "date_to": date(2025, 7, 3), "username": ALICE.username,
               "currency": "USD", "status": "completed"}


@pytest.mark.parametrize("name", list(DASHBOARD.questions))
@pytest.mark.parametrize("filters", [{}, ALL_FILTERS], ids=["no filter", "every filter"])
def test_every_question_runs_with_and_without_its_filters(known, name, filters):
    ask(known, name, **{k: v for k, v in filters.items() if k in DASHBOARD.questions[name].tags})


@pytest.mark.parametrize("filters, expected", [
    ({}, 5),
    ({"currency": "USD"}, 2),
    ({"username": ALICE.username}, 4),
    ({"date_from": date(2025, 7, 2), "date_to": date(2025, 7, 2)}, 2),
    ({"status": "completed"}, 3),
    ({"currency": "USD", "status": "completed"}, 1),
    ({"username": "nobody"}, 0),
])
def test_transaction_count_follows_each_filter(known, filters, expected):
    assert ask(known, "transaction_count", **filters) == [(expected,)]


def test_volume_is_per_currency_never_added_across_currencies(known):
    assert ask(known, "volume_by_currency") == [
        ("USD", 2, Decimal("9100.00")), ("EUR", 2, Decimal("8050.51")), ("GBP", 1, Decimal("10.00"))]


def test_completion_rate_and_suspicious_count(known):
    assert ask(known, "completion_rate") == [(Decimal("60.0"),)]
    assert ask(known, "suspicious_count") == [(2,)]
    assert ask(known, "suspicious_count", currency="EUR") == [(1,)]


def test_volume_per_day_by_currency(known):
    assert ask(known, "volume_per_day") == [
        (date(2025, 7, 1), "USD", Decimal("100.00")), (date(2025, 7, 2), "EUR", Decimal("50.50")),
        (date(2025, 7, 2), "USD", Decimal("9000.00")), (date(2025, 7, 3), "EUR", Decimal("8000.01")),
        (date(2025, 7, 3), "GBP", Decimal("10.00"))]


def test_status_split(known):
    assert ask(known, "status_split") == [("completed", 3), ("failed", 1), ("pending", 1)]


def test_top_senders_and_receivers_per_currency(known):
    assert ask(known, "top_senders") == [
        (ALICE.username, "USD", 2, Decimal("9100.00")), (CAROL.username, "EUR", 1, Decimal("8000.01")),
        (BOB.username, "EUR", 1, Decimal("50.50")), (BOB.username, "GBP", 1, Decimal("10.00"))]
    assert ask(known, "top_receivers")[0] == (BOB.username, "USD", 2, Decimal("9100.00"))


def test_latest_suspicious_newest_first(known):
    found = ask(known, "latest_suspicious")

    assert [(row[1], row[3]) for row in found] == [(CAROL.username, Decimal("8000.01")),
                                                   (ALICE.username, Decimal("9000.00"))]


def test_refusals_by_reason_count_each_reason(known):
    assert ask(known, "rejected_by_reason") == [
        ("greater_than", "amount", 1), ("literal_error", "status", 1), ("unknown_user", "username_sender", 1)]


def test_recent_imports_show_what_reached_the_database(known):
    [row] = ask(known, "recent_imports")

    assert row[1:] == ("july.csv", 2, 1, 1, "complete")


def test_a_value_is_bound_never_written_into_the_sql(known):
    assert ask(known, "transaction_count", username="x' OR '1'='1") == [(0,)]
