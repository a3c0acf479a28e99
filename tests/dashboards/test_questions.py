"""Every question of the dashboard, run on real PostgreSQL with known data: the numbers a person would read."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import text

from dashboards.questions import load_dashboard, render
from tests.helpers.known_data import ALICE, BOB, CAROL

DASHBOARD = load_dashboard()
AGAIN = uuid.UUID("00000000-0000-4000-8000-00000000a9a1")  # a later import of the same payment
def ask(engine, name, **filters):
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(render(DASHBOARD.questions[name].sql, filters))]


# Columns that move with the clock (how long a payment has waited) or are made anew for each test (ids).
MOVING = {"longest_wait", "waiting", "transaction_id"}


def ask_still(engine, name, **filters):
    """The answer without its MOVING columns, for the questions that have them."""
    with engine.connect() as conn:
        result = conn.execute(render(DASHBOARD.questions[name].sql, filters))
        keep = [i for i, column in enumerate(result.keys()) if column not in MOVING]
        return [tuple(row[i] for i in keep) for row in result]


ALL_FILTERS = {"date_from": date(2025, 7, 1), "date_to": date(2025, 7, 3), "username": ALICE.username,
               "currency": "USD", "status": "completed"}


# Every filter at once leaves one transaction: Alice to Bob, 100.00 USD on 1 July, completed, not suspicious. The
# refusals and the import are of today, outside the dates.
WITH_EVERY_FILTER = {
    "transaction_count": [(1,)],
    "completion_rate": [(Decimal("100.0"),)],
    "suspicious_count": [(0,)],
    "volume_by_currency": [("USD", 1, Decimal("100.00"))],
    "volume_per_day": [(date(2025, 7, 1), "USD", Decimal("100.00"))],
    "status_split": [("completed", 1)],
    "top_senders": [(ALICE.username, "USD", 1, Decimal("100.00"))],
    "top_receivers": [(BOB.username, "USD", 1, Decimal("100.00"))],
    "latest_suspicious": [],
    "rejected_by_reason": [],
    "recent_imports": [],
    "conflicts": [],
    # The only pending payment is over a year old: far beyond the 15 minutes allowed. Dates are not its filters.
    "pending_beyond_sla": [("USD", 1, datetime(2025, 7, 2, 10, tzinfo=UTC), 15)],
    "pending_sla_breaches": [(datetime(2025, 7, 2, 10, tzinfo=UTC), ALICE.username, BOB.username,
                              Decimal("9000.00"), "USD", "manual")],
}
# Without a filter, how many rows each question answers (their numbers are asserted one by one below).
ROWS_WITHOUT_FILTER = {"transaction_count": 1, "completion_rate": 1, "suspicious_count": 1, "volume_by_currency": 3,
                       "volume_per_day": 5, "status_split": 3, "top_senders": 4, "top_receivers": 4,
                       "latest_suspicious": 2, "rejected_by_reason": 3, "recent_imports": 1,
                       "conflicts": 1, "pending_beyond_sla": 1, "pending_sla_breaches": 1}


def test_every_question_is_checked_below():
    assert set(WITH_EVERY_FILTER) == set(ROWS_WITHOUT_FILTER) == set(DASHBOARD.questions)


@pytest.mark.parametrize("name", list(DASHBOARD.questions))
def test_every_question_with_every_filter_answers_for_the_one_transaction_left(known, name):
    filters = {k: v for k, v in ALL_FILTERS.items() if k in DASHBOARD.questions[name].tags}

    assert ask_still(known, name, **filters) == WITH_EVERY_FILTER[name]


@pytest.mark.parametrize("name", list(DASHBOARD.questions))
def test_every_question_without_a_filter_answers_for_all_the_data(known, name):
    assert len(ask(known, name)) == ROWS_WITHOUT_FILTER[name]


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


def test_an_import_whose_row_a_later_import_wrote_again_stays_complete(known):
    with known.begin() as conn:  # a second file holding the same payment: its row now names the later import
        conn.execute(text("INSERT INTO imports (import_id, file_name, sha256, s3_key, size_bytes, rows_read, "
                          "rows_unique, rows_duplicate, rows_suspicious, rows_malformed, rows_published, status) "
                          "VALUES (:id, 'july again.csv', :sha, 'k2', 10, 1, 1, 0, 0, 0, 1, 'published')"),
                     {"id": AGAIN, "sha": "1" * 64})
        conn.execute(text("UPDATE transactions SET import_id = :id WHERE import_id IS NOT NULL"), {"id": AGAIN})
        conn.execute(text("INSERT INTO import_progress (import_id, topic, partition, last_offset, rows_saved) "
                          "VALUES (:id, 'import-payments-events', 1, 0, 1)"), {"id": AGAIN})

        # And one still archiving its file (or stopped there): nothing of it is published, nothing to show.
        conn.execute(text("INSERT INTO imports (import_id, file_name, sha256, s3_key, size_bytes, rows_read, "
                          "rows_unique, rows_duplicate, rows_suspicious, rows_malformed, rows_published, status) "
                          "VALUES (gen_random_uuid(), 'archiving.csv', :sha, 'k3', 10, 1, 1, 0, 0, 0, 0, 'archiving')"),
                     {"sha": "2" * 64})

    found = {row[1]: row[3:] for row in ask(known, "recent_imports")}

    assert found == {"july.csv": (1, 1, "complete"), "july again.csv": (1, 0, "complete")}


def test_a_value_is_bound_never_written_into_the_sql(known):
    assert ask(known, "transaction_count", username="x' OR '1'='1") == [(0,)]


def test_a_conflicting_version_is_listed_with_both_statuses(known):
    [row] = ask(known, "conflicts")

    assert (row[2], row[3]) == ("completed", "failed")
