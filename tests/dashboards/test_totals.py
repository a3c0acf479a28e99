"""The questions read totals and indexes, not the whole table: they must still answer exactly what a direct query
over `transactions` answers (tests/dashboards/direct/, the questions as they were before the totals), with and
without each filter, after inserts, updates and a manual fix in SQL."""

import json
import random
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from dashboards.questions import load_dashboard, load_question, render
from payments_core.db.seed import seed_users
from payments_core.totals import refresh_totals

DASHBOARD = load_dashboard()
USER_QUESTIONS = {name: load_question(name).sql for name in ("user_activity", "user_history")}
DIRECT = Path(__file__).parent / "direct"
USERS = seed_users()[:6]
CURRENCIES = {840: "USD", 978: "EUR", 826: "GBP"}
# Ranges that start and end inside months, match whole months, or fall in one month: the top senders and
# receivers add whole months and cut days differently.
FILTER_CASES = [
    {},
    {"date_from": date(2025, 6, 12)},
    {"date_to": date(2025, 7, 9)},
    {"date_from": date(2025, 6, 1), "date_to": date(2025, 7, 31)},
    {"date_from": date(2025, 6, 12), "date_to": date(2025, 7, 9)},
    {"date_from": date(2025, 7, 3), "date_to": date(2025, 7, 20)},
    {"username": USERS[0].username},
    {"username": "nobody"},
    {"currency": "EUR"},
    {"status": "pending"},
    {"date_from": date(2025, 6, 12), "date_to": date(2025, 7, 9), "username": USERS[1].username,
     "currency": "USD", "status": "completed"},
]


def payments(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    start = datetime(2025, 5, 20, tzinfo=UTC)
    rows = []
    for _ in range(count):
        sender, receiver = rng.sample(USERS, 2)
        amount = Decimal(rng.choice([rng.randint(1, 900_000), rng.randint(800_000, 990_000)])) / 100
        rows.append({"id": uuid.uuid4(), "s": sender.user_id, "r": receiver.user_id, "a": amount,
                     "c": rng.choice(list(CURRENCIES)), "st": rng.choice(["pending", "completed", "failed"]),
                     "d": start + timedelta(minutes=rng.randint(0, 82 * 24 * 60)), "sus": amount > 8000})
    return rows


def insert(conn, rows: list[dict]) -> None:
    conn.execute(text("INSERT INTO transactions (transaction_id, sender_id, receiver_id, amount, currency_code, "
                      "transaction_date, status, is_suspicious, source) "
                      "VALUES (:id, :s, :r, :a, :c, :d, :st, :sus, 'generator')"), rows)


def direct(name: str) -> str:
    return (DIRECT / f"{name}.sql").read_text()


def answers(conn, sql: str, filters: dict) -> list[tuple]:
    return [tuple(row) for row in conn.execute(render(sql, filters))]


def assert_questions_match_direct_queries(engine) -> None:
    with engine.begin() as conn:
        refresh_totals(conn)
    with engine.connect() as conn:
        for name in sorted(p.stem for p in DIRECT.glob("*.sql")):
            question = DASHBOARD.questions[name]
            for filters in FILTER_CASES:
                given = {k: v for k, v in filters.items() if k in question.tags}
                expected = answers(conn, direct(name), given)
                found = answers(conn, question.sql, given)
                if "LIMIT" in question.sql:  # ordered and cut: the order is part of the answer
                    assert found == expected, (name, given)
                else:
                    assert sorted(found) == sorted(expected), (name, given)


@pytest.fixture
def payments_engine(engine):
    with engine.begin() as conn:
        insert(conn, payments(600, seed=7))
    return engine


def test_every_question_answers_as_a_direct_query_with_and_without_each_filter(payments_engine):
    assert_questions_match_direct_queries(payments_engine)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ends=st.lists(st.dates(date(2025, 5, 10), date(2025, 8, 20)), min_size=2, max_size=2),
       open_start=st.booleans(), open_end=st.booleans(),
       status=st.none() | st.sampled_from(["pending", "completed", "failed"]))
@example(ends=[date(2025, 6, 3), date(2025, 6, 21)], open_start=False, open_end=False, status=None)  # Tue to Sat
@example(ends=[date(2025, 6, 16), date(2025, 7, 6)], open_start=False, open_end=False, status=None)  # Mon to Sun
def test_top_senders_and_receivers_add_months_weeks_and_days_as_the_direct_query_for_any_dates(
        payments_engine, ends, open_start, open_end, status):
    """Any range (a day, within a week, across months, open on one side): the whole months, the whole weeks at each
    edge and the days left over add up to what the direct query counts, never a day twice or missed."""
    start, end = sorted(ends)
    filters = {"date_from": None if open_start else start, "date_to": None if open_end else end, "status": status}
    filters = {k: v for k, v in filters.items() if v}
    with payments_engine.begin() as conn:
        refresh_totals(conn)
    with payments_engine.connect() as conn:
        for name in ("top_senders", "top_receivers"):
            assert answers(conn, DASHBOARD.questions[name].sql, filters) == answers(conn, direct(name), filters), \
                (name, filters)


def test_after_new_payments_the_totals_follow(payments_engine):
    assert_questions_match_direct_queries(payments_engine)
    with payments_engine.begin() as conn:
        insert(conn, payments(200, seed=8))

    assert_questions_match_direct_queries(payments_engine)


def test_a_pending_payment_completed_moves_between_the_status_totals(payments_engine):
    with payments_engine.begin() as conn:
        refresh_totals(conn)
        pending = conn.scalar(text("SELECT count(*) FROM transactions WHERE status = 'pending'"))
        conn.execute(text("UPDATE transactions SET status = 'completed' WHERE transaction_id IN "
                          "(SELECT transaction_id FROM transactions WHERE status = 'pending' LIMIT 50)"))

    assert_questions_match_direct_queries(payments_engine)
    with payments_engine.connect() as conn:
        split = dict(answers(conn, DASHBOARD.questions["status_split"].sql, {}))
    assert split["pending"] == pending - 50


def test_a_manual_fix_in_sql_is_reflected(payments_engine):
    """A person in psql moves payments to another day and currency, changes an amount and deletes some."""
    assert_questions_match_direct_queries(payments_engine)
    with payments_engine.begin() as conn:
        conn.execute(text("UPDATE transactions SET transaction_date = transaction_date - interval '40 days', "
                          "currency_code = 978 WHERE currency_code = 826 AND amount < 2000"))
        conn.execute(text("UPDATE transactions SET amount = amount + 1 WHERE status = 'failed'"))
        conn.execute(text("DELETE FROM transactions WHERE transaction_id IN "
                          "(SELECT transaction_id FROM transactions ORDER BY transaction_id LIMIT 30)"))

    assert_questions_match_direct_queries(payments_engine)


def test_emptying_the_table_empties_the_totals(payments_engine):
    with payments_engine.begin() as conn:
        refresh_totals(conn)
        conn.execute(text("TRUNCATE transactions CASCADE"))
        refresh_totals(conn)
        left = conn.scalar(text("SELECT (SELECT count(*) FROM daily_totals) + (SELECT count(*) FROM "
                                "user_daily_totals) + (SELECT count(*) FROM user_monthly_totals) + "
                                "(SELECT count(*) FROM user_totals)"))

    assert left == 0


def test_an_upsert_that_inserts_and_updates_marks_both(payments_engine):
    """The ingestion service writes with INSERT … ON CONFLICT DO UPDATE: both its new rows and the rows it
    updates reach the totals."""
    rows = payments(20, seed=9)
    with payments_engine.begin() as conn:
        insert(conn, rows[:10])
        refresh_totals(conn)
        for row in rows:
            row["st"] = "failed"
        conn.execute(text(
            "INSERT INTO transactions (transaction_id, sender_id, receiver_id, amount, currency_code, "
            "transaction_date, status, is_suspicious, source) VALUES (:id, :s, :r, :a, :c, :d, :st, :sus, "
            "'generator') ON CONFLICT (transaction_id) DO UPDATE SET status = EXCLUDED.status"), rows)

    assert_questions_match_direct_queries(payments_engine)


def test_a_write_committed_during_a_refresh_is_added_by_the_next_once(payments_engine):
    """A writer still in its transaction while the refresh runs: its rows are not lost, nor added twice."""
    with payments_engine.begin() as conn:
        refresh_totals(conn)
    writer = payments_engine.connect()
    try:
        writer.begin()
        insert(writer, payments(40, seed=10))
        writer.execute(text("UPDATE transactions SET status = 'failed' WHERE status = 'pending'"))
        with payments_engine.begin() as conn:
            refresh_totals(conn)
        writer.commit()
    finally:
        writer.close()

    assert_questions_match_direct_queries(payments_engine)
    assert_questions_match_direct_queries(payments_engine)


def test_a_refresh_costs_what_changed_not_the_whole_day(payments_engine):
    """After a refresh the log is empty; the next refresh only sees the cells of the rows written since."""
    with payments_engine.begin() as conn:
        refresh_totals(conn)
        insert(conn, [{**row, "s": USERS[0].user_id, "r": USERS[1].user_id, "c": 840, "st": "pending",
                       "d": datetime(2025, 6, 3, 12, tzinfo=UTC)} for row in payments(5, seed=11)])
        cells = refresh_totals(conn)
        left = conn.scalar(text("SELECT count(*) FROM payment_totals_changes"))

    assert (cells, left) == (2, 0)  # the sender's and the receiver's cell of that day, currency and status
    assert_questions_match_direct_queries(payments_engine)


def test_a_user_who_sent_and_received_in_one_cell_has_both_in_the_totals(payments_engine):
    """The refresh adds up the senders' cells and the receivers' cells apart (migration 0021); a user on both sides
    of one day, currency and status gets both in every table of totals."""
    alice, bob = USERS[0], USERS[1]
    day = datetime(2025, 6, 4, 9, tzinfo=UTC)
    with payments_engine.begin() as conn:
        refresh_totals(conn)
        insert(conn, [{"id": uuid.uuid4(), "s": alice.user_id, "r": bob.user_id, "a": Decimal("8500.00"), "c": 978,
                       "st": "failed", "d": day, "sus": True},
                      {"id": uuid.uuid4(), "s": bob.user_id, "r": alice.user_id, "a": Decimal("20.00"), "c": 978,
                       "st": "failed", "d": day + timedelta(hours=1), "sus": False}])
        refresh_totals(conn)
        added = conn.execute(text("""
            SELECT t.sent, t.sent_volume, t.received, t.received_volume, t.suspicious
            FROM user_daily_totals t
            WHERE t.day = '2025-06-04' AND t.user_id = :bob AND t.currency_code = 978 AND t.status = 'failed'"""),
            {"bob": bob.user_id}).one()
        direct_bob = conn.execute(text("""
            SELECT count(*) FILTER (WHERE sender_id = :bob), coalesce(sum(amount) FILTER (WHERE sender_id = :bob), 0),
                   count(*) FILTER (WHERE receiver_id = :bob),
                   coalesce(sum(amount) FILTER (WHERE receiver_id = :bob), 0), count(*) FILTER (WHERE is_suspicious)
            FROM transactions
            WHERE :bob IN (sender_id, receiver_id) AND currency_code = 978 AND status = 'failed'
              AND (transaction_date AT TIME ZONE 'UTC')::date = '2025-06-04'"""), {"bob": bob.user_id}).one()

    assert tuple(added) == tuple(direct_bob)
    assert added.sent >= 1 and added.received >= 1 and added.suspicious >= 1
    assert_questions_match_direct_queries(payments_engine)


def test_the_user_page_questions_match_direct_queries(payments_engine):
    with payments_engine.begin() as conn:
        refresh_totals(conn)
    user = USERS[2]
    with payments_engine.connect() as conn:
        activity = answers(conn, USER_QUESTIONS["user_activity"], {"username": user.username})
        expected = answers(conn, """
            SELECT currency, sum(sent), sum(sent_amount), sum(received), sum(received_amount) FROM (
              SELECT currency, 1 AS sent, amount AS sent_amount, 0 AS received, 0 AS received_amount
              FROM bi_transactions WHERE sender_username = :username
              UNION ALL
              SELECT currency, 0, 0, 1, amount FROM bi_transactions WHERE receiver_username = :username) AS sides
            GROUP BY currency ORDER BY currency""", {"username": user.username})
        history = answers(conn, USER_QUESTIONS["user_history"], {"username": user.username})
        mine = conn.scalar(text("SELECT count(*) FROM transactions WHERE :id IN (sender_id, receiver_id)"),
                           {"id": user.user_id})

    assert activity == expected
    assert len(history) == min(mine, 200)
    assert [row[0] for row in history] == sorted((row[0] for row in history), reverse=True)


def test_the_questions_never_scan_the_whole_table(engine):
    """On a few hundred thousand payments, no question's plan reads `transactions` sequentially, with any filter:
    a new question that would cannot slip in unnoticed."""
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO transactions (transaction_id, sender_id, receiver_id, amount, currency_code,
                                      transaction_date, status, is_suspicious, source)
            SELECT gen_random_uuid(), u.ids[1 + n % 300], u.ids[1 + (n * 7 + 1) % 300], a.amount,
                   (ARRAY[840, 978, 826])[1 + n % 3],
                   timestamptz '2024-01-01' + (n % 700) * interval '1 day' + (n % 1440) * interval '1 minute',
                   (ARRAY['completed', 'completed', 'pending', 'failed'])[1 + n % 4], a.amount > 8000, 'generator'
            FROM generate_series(1::bigint, 300000) AS n
            CROSS JOIN (SELECT array_agg(user_id ORDER BY user_id) AS ids FROM users) AS u
            CROSS JOIN LATERAL (SELECT ((n * 7919) % 1000000) / 100.0 + 1 AS amount) AS a
        """))
        refresh_totals(conn)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE transactions"))
        conn.execute(text("ANALYZE"))
        username = conn.scalar(text("SELECT username FROM users ORDER BY user_id LIMIT 1"))
        cases = [*FILTER_CASES[:6], {"username": username}, {"currency": "EUR"}, {"status": "failed"},
                 {**FILTER_CASES[-1], "username": username}]
        questions = {**{n: q.sql for n, q in DASHBOARD.questions.items()}, **USER_QUESTIONS}
        for name, sql in questions.items():
            tags = DASHBOARD.questions[name].tags if name in DASHBOARD.questions else ["username"]
            for filters in cases:
                given = {k: v for k, v in filters.items() if k in tags}
                if name.startswith("user_"):
                    given = {"username": username}
                plan = conn.execute(render("EXPLAIN (FORMAT JSON) " + sql, given)).scalar_one()
                scans = list(sequential_scans(plan if isinstance(plan, list) else json.loads(plan)))
                assert "transactions" not in scans, (name, given)
        # The check itself: the same count straight from the table does scan it.
        control = conn.execute(render("EXPLAIN (FORMAT JSON) " + direct("transaction_count"), {})).scalar_one()
        assert "transactions" in list(sequential_scans(control))


def sequential_scans(node):
    if isinstance(node, list):
        for item in node:
            yield from sequential_scans(item)
    elif isinstance(node, dict):
        if node.get("Node Type") == "Seq Scan":
            yield node.get("Relation Name")
        for value in node.values():
            if isinstance(value, list | dict):
                yield from sequential_scans(value)


def test_a_refresh_empties_the_half_it_takes_instead_of_deleting_row_by_row(payments_engine):
    """Rows deleted one by one would stay on disk as dead rows until VACUUM, and the next refresh would read them."""
    with payments_engine.begin() as conn:
        refresh_totals(conn)  # the 600 rows of the fixture
        insert(conn, payments(50, seed=12))
    with payments_engine.begin() as conn:
        refresh_totals(conn)
        sizes = conn.execute(text("SELECT pg_relation_size('payment_totals_changes_0'), "
                                  "pg_relation_size('payment_totals_changes_1')")).one()

    assert sizes == (0, 0)
    assert_questions_match_direct_queries(payments_engine)


def test_a_refresh_in_a_repeatable_read_transaction_loses_no_change(payments_engine):
    """Its snapshot does not see a write committed after it began: emptying the half whole would lose that write."""
    with payments_engine.begin() as conn:
        refresh_totals(conn)
    refresher = payments_engine.connect().execution_options(isolation_level="REPEATABLE READ")
    try:
        refresher.begin()
        refresher.execute(text("SELECT count(*) FROM transactions"))  # the snapshot is taken
        with payments_engine.begin() as writer:
            insert(writer, payments(30, seed=13))
        refresh_totals(refresher)
        refresher.commit()
    finally:
        refresher.close()

    assert_questions_match_direct_queries(payments_engine)


def test_writers_and_refreshes_at_once_end_with_exact_totals(payments_engine):
    """Three writers insert, settle, fix by hand, delete and roll back while a refresher runs without pause: no
    change is lost or counted twice, whichever half it went to and whenever the refresh turned."""
    errors: list[BaseException] = []
    done = threading.Event()

    def write(seed: int) -> None:
        rng = random.Random(seed)
        mine: list[uuid.UUID] = []  # each writer changes its own payments: writers never wait on each other
        try:
            for round_ in range(12):
                with payments_engine.connect() as conn:
                    conn.begin()
                    rows = payments(rng.randint(1, 25), seed=seed * 100 + round_)
                    insert(conn, rows)
                    touched = rng.sample(mine, min(len(mine), 6))
                    conn.execute(text("UPDATE transactions SET status = 'completed', amount = amount + 1 "
                                      "WHERE transaction_id = ANY(:ids) AND status = 'pending'"), {"ids": touched[:4]})
                    conn.execute(text("DELETE FROM transactions WHERE transaction_id = ANY(:ids)"),
                                 {"ids": touched[4:]})
                    if rng.random() < 0.2:
                        conn.rollback()
                    else:
                        conn.commit()
                        mine[:] = [i for i in mine if i not in touched[4:]] + [row["id"] for row in rows]
        except BaseException as e:  # noqa: BLE001 — reported by the test below
            errors.append(e)

    def refresh() -> None:
        while not done.is_set():
            with payments_engine.begin() as conn:
                refresh_totals(conn)

    refresher = threading.Thread(target=refresh)
    writers = [threading.Thread(target=write, args=(seed,)) for seed in (21, 22, 23)]
    refresher.start()
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    done.set()
    refresher.join()

    assert errors == []
    assert_questions_match_direct_queries(payments_engine)
