"""Payments pending beyond the service level: the card, the table and the gauge on known data, and the card against
a direct count over `transactions` for any payments and any limit."""

import threading
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from dashboards.questions import load_dashboard, render
from payments_core.db.seed import seed_users
from payments_core.db.service_levels import pending_beyond_sla, set_service_level
from payments_core.totals import TotalsRefresher, refresh_totals
from platform_ops.setup import migrate_and_seed

QUESTIONS = load_dashboard().questions
ALICE, BOB = seed_users()[:2]
CURRENCIES = {840: "USD", 978: "EUR", 826: "GBP"}
DIRECT = text("""
SELECT c.alpha_code, count(*), min(t.transaction_date)
FROM transactions t JOIN currencies c ON c.numeric_code = t.currency_code
WHERE t.status = 'pending'
  AND t.transaction_date < now() - make_interval(mins => (SELECT minutes FROM service_levels WHERE name = 'pending'))
GROUP BY c.alpha_code ORDER BY count(*) DESC, c.alpha_code""")


def add(conn, age: timedelta, status: str = "pending", currency: int = 840, amount: str = "10.00") -> uuid.UUID:
    transaction_id = uuid.uuid4()
    conn.execute(text("INSERT INTO transactions (transaction_id, sender_id, receiver_id, amount, currency_code, "
                      "transaction_date, status, is_suspicious, source) "
                      "VALUES (:id, :s, :r, :a, :c, now() - :age, :st, false, 'generator')"),
                 {"id": transaction_id, "s": ALICE.user_id, "r": BOB.user_id, "a": Decimal(amount), "c": currency,
                  "age": age, "st": status})
    return transaction_id


def ask(conn, name: str, **filters) -> list:
    refresh_totals(conn)
    return list(conn.execute(render(QUESTIONS[name].sql, filters)))


@pytest.fixture
def waiting(engine):
    """Pending for 20 minutes (two in USD), 3 days (EUR) and 400 days (USD); pending for 5 minutes (GBP, within
    the limit); and completed an hour ago (USD): four breaches of the 15 minutes allowed."""
    with engine.begin() as conn:
        ids = {"usd_20m": add(conn, timedelta(minutes=20)), "usd_21m": add(conn, timedelta(minutes=21)),
               "eur_3d": add(conn, timedelta(days=3), currency=978, amount="30.00"),
               "usd_400d": add(conn, timedelta(days=400)),
               "gbp_5m": add(conn, timedelta(minutes=5), currency=826),
               "usd_done": add(conn, timedelta(hours=1), status="completed")}
    return engine, ids


def test_the_card_counts_per_currency_with_the_oldest(waiting):
    engine, ids = waiting
    with engine.begin() as conn:
        rows = ask(conn, "pending_beyond_sla")
        oldest = conn.scalar(text("SELECT transaction_date FROM transactions WHERE transaction_id = :id"),
                             {"id": ids["usd_400d"]})

    assert [(r.currency, r.payments, r.sla_minutes) for r in rows] == [("USD", 3, 15), ("EUR", 1, 15)]
    assert rows[0].oldest == oldest
    assert rows[1].longest_wait == timedelta(days=3)


def test_the_table_lists_the_breaches_the_longest_waiting_first(waiting):
    engine, ids = waiting
    with engine.begin() as conn:
        rows = ask(conn, "pending_sla_breaches")
        in_euros = ask(conn, "pending_sla_breaches", currency="EUR")

    assert [r.transaction_id for r in rows] == [ids["usd_400d"], ids["eur_3d"], ids["usd_21m"], ids["usd_20m"]]
    assert [r.transaction_id for r in in_euros] == [ids["eur_3d"]]


def test_a_longer_limit_and_a_settled_payment_leave_the_card(waiting):
    engine, ids = waiting
    with engine.begin() as conn:
        set_service_level(conn, "pending", 60)
        conn.execute(text("UPDATE transactions SET status = 'completed' WHERE transaction_id = :id"),
                     {"id": ids["usd_400d"]})
        rows = ask(conn, "pending_beyond_sla")

    assert [(r.currency, r.payments, r.sla_minutes) for r in rows] == [("EUR", 1, 60)]


def test_the_setup_writes_the_limit_from_the_environment(database_url, engine):
    migrate_and_seed(database_url, pending_sla_minutes=42)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT minutes FROM service_levels WHERE name = 'pending'")) == 42


def test_the_ingestion_services_gauge_counts_the_breaches(waiting, database_url):
    """The refresher sets `payments_pending_beyond_sla` after each refresh of the totals."""
    seen, counted = [], threading.Event()
    refresher = TotalsRefresher(database_url, 0.1, on_pending_beyond_sla=lambda n: (seen.append(n), counted.set()))
    refresher.start()
    try:
        assert counted.wait(10)
    finally:
        refresher.stop()

    assert seen[0] == 4


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(minutes=st.integers(1, 3 * 24 * 60),
       payments=st.lists(st.tuples(st.integers(0, 5 * 24 * 3600), st.sampled_from(["pending", "completed"]),
                                   st.sampled_from(list(CURRENCIES))), max_size=30))
def test_the_card_is_the_direct_count_for_any_payments_and_limit(engine, minutes, payments):
    """The view adds whole days from the totals and reads only the day the limit falls on: whatever the ages
    (across midnights) and the limit, it counts what a scan of the table counts."""
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE transactions CASCADE"))
        set_service_level(conn, "pending", minutes)
        for age, status, currency in payments:
            add(conn, timedelta(seconds=age), status=status, currency=currency)
        card = [(r.currency, r.payments, r.oldest) for r in ask(conn, "pending_beyond_sla")]
        direct = [tuple(r) for r in conn.execute(DIRECT)]

    assert card == direct
    with engine.connect() as conn:
        assert sum(pending_beyond_sla(conn).values()) == sum(n for _, n, _ in direct)


def test_the_card_stays_on_indexes_and_totals(engine):
    """Ten thousand payments stuck for up to a year: the count reads the totals and one day of the pending
    index, never every pending payment or the table."""
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO transactions (transaction_id, sender_id, receiver_id, amount, currency_code,
                                      transaction_date, status, is_suspicious, source)
            SELECT gen_random_uuid(), :s, :r, 10, 840, now() - n * interval '53 minutes', 'pending', false,
                   'generator'
            FROM generate_series(1, 10000) AS n"""), {"s": ALICE.user_id, "r": BOB.user_id})
        refresh_totals(conn)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE transactions"))
        plan = conn.execute(text("EXPLAIN (ANALYZE, FORMAT JSON) "
                                       + render(QUESTIONS["pending_beyond_sla"].sql, {}).text)).scalar()

    def rows_read_from_transactions(node) -> int:
        own = node["Actual Rows"] * node.get("Actual Loops", 1) if node.get("Relation Name") == "transactions" else 0
        return own + sum(rows_read_from_transactions(child) for child in node.get("Plans", []))

    assert rows_read_from_transactions(plan[0]["Plan"]) <= 100, "one day of pending payments, and the oldest"
