"""The API's endpoints over the dashboards' known data: what a finance tool or a script reads."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tests.helpers.known_data import ALICE, BOB, IMPORT_ID


@pytest.fixture
def api(importer_settings, known):
    from csv_importer import create_app
    from payments_api import tokens

    app = create_app(importer_settings.model_copy(update={"api_requests_per_minute": 1_000_000}))
    token = tokens.create(app.extensions["importer"].engine, "finance", ["read"]).token
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def test_a_users_payments_are_those_it_sent_or_received_newest_first(api):
    answer = api.get("/api/v1/payments", query_string={"user": ALICE.username})

    assert answer.status_code == 200, answer.text
    payments = answer.json["payments"]
    assert sorted(p["amount"] for p in payments) == ["10.00", "100.00", "8000.01", "9000.00"]
    keys = [(p["transaction_date"], p["transaction_id"]) for p in payments]
    assert keys == sorted(keys, reverse=True)
    assert all(ALICE.username in (p["sender"], p["receiver"]) for p in payments)
    assert answer.json["next"] is None


def test_filters_combine_and_amounts_are_exact_strings_with_their_currency(api):
    answer = api.get("/api/v1/payments", query_string={"currency": "eur", "suspicious": "true"})

    assert [(p["amount"], p["currency"], p["status"]) for p in answer.json["payments"]] == [
        ("8000.01", "EUR", "failed")]
    imported = answer.json["payments"][0]["imported_from"]
    assert imported["import_id"] == str(IMPORT_ID) and imported["line"] == 2


def test_a_payments_history_shows_the_version_set_aside(api):
    listed = api.get("/api/v1/payments", query_string={"user": ALICE.username, "to": "2025-07-01"}).json
    href = listed["payments"][0]["href"]

    answer = api.get(href)

    assert answer.status_code == 200, answer.text
    assert [v["reason"] for v in answer.json["set_aside"]] == ["conflict"]


def test_a_users_summary_adds_up_what_it_sent_and_received(api):
    answer = api.get(f"/api/v1/users/{BOB.username}/summary", query_string={"from": "2025-07-01", "to": "2025-07-03"})

    assert answer.status_code == 200, answer.text
    lines = {(t["currency"], t["status"]): t for t in answer.json["totals"]}
    assert lines["USD", "completed"]["received"] == {"payments": 1, "amount": "100.00"}
    assert lines["GBP", "completed"]["sent"] == {"payments": 1, "amount": "10.00"}


def test_a_users_summary_counts_payments_not_yet_in_the_totals(api, known):
    from tests.helpers.known_data import CAROL

    with known.begin() as conn:  # a currency and status new to both users, before any refresh of the totals
        conn.execute(text("INSERT INTO transactions (transaction_id, sender_id, receiver_id, amount, currency_code, "
                          "transaction_date, status, source) VALUES (gen_random_uuid(), :s, :r, 5, 392, "
                          "'2025-07-02T10:00:00Z', 'pending', 'manual')"), {"s": ALICE.user_id, "r": CAROL.user_id})

    for user, side in ((ALICE, "sent"), (CAROL, "received")):
        answer = api.get(f"/api/v1/users/{user.username}/summary")
        assert answer.status_code == 200, answer.text
        line = next(t for t in answer.json["totals"] if t["currency"] == "JPY")
        other = "received" if side == "sent" else "sent"
        assert line[side] == {"payments": 1, "amount": "5.00"} and line[other] == {"payments": 0, "amount": "0.00"}


def test_a_username_may_hold_a_slash_and_a_long_one_is_a_400(api, known):
    with known.begin() as conn:
        conn.execute(text("INSERT INTO users (user_id, username, full_name, email) VALUES (gen_random_uuid(), "
                          "'team/ops', 'Ops', 'ops@example.org')"))

    assert api.get("/api/v1/users/team%2Fops/summary").status_code == 200
    too_long = api.get(f"/api/v1/users/{'x' * 151}/summary")
    assert too_long.status_code == 400 and too_long.json["errors"][0]["parameter"] == "username"


def test_a_parameter_is_known_by_its_name_only(api):
    answer = api.get("/api/v1/payments", query_string={"from_": "2025-07-01"})

    assert answer.status_code == 400 and answer.json["errors"][0]["parameter"] == "from_"


def test_reports(api):
    daily = api.get("/api/v1/reports/daily", query_string={"date": "2025-07-02"}).json
    assert {(t["currency"], t["status"], t["payments"]) for t in daily["totals"]} == {
        ("USD", "pending", 1), ("EUR", "completed", 1)}
    failed = api.get("/api/v1/reports/failed", query_string={"from": "2025-07-01", "to": "2025-07-31"}).json
    assert [(d["date"], d["currency"], d["amount"]) for d in failed["days"]] == [("2025-07-03", "EUR", "8000.01")]
    pending = api.get("/api/v1/reports/pending-beyond-sla").json
    assert [p["amount"] for p in pending["oldest"]] == ["9000.00"]
    suspicious = api.get("/api/v1/reports/suspicious").json
    assert [p["amount"] for p in suspicious["payments"]] == ["8000.01", "9000.00"]


def test_imports_and_their_refused_rows(api):
    listed = api.get("/api/v1/imports").json
    assert [i["file_name"] for i in listed["imports"]] == ["july.csv"]
    one = api.get(listed["imports"][0]["href"]).json
    assert one["rows"]["refused"] == 1 and one["refused_rows"][0]["line"] == 3
    refused = api.get("/api/v1/rejected-events", query_string={"reason": "unknown_user"}).json
    assert [e["import_line"] for e in refused["rejected_events"]] == [3]


def test_a_bad_parameter_is_a_problem_naming_it(api):
    answer = api.get("/api/v1/payments", query_string={"from": "July", "limit": "0"})

    assert answer.status_code == 400
    assert answer.content_type == "application/problem+json"
    assert {e["parameter"] for e in answer.json["errors"]} == {"from", "limit"}


DATED = ["/api/v1/payments", "/api/v1/reports/failed", "/api/v1/reports/suspicious", "/api/v1/rejected-events",
         f"/api/v1/users/{BOB.username}/summary"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.none() | st.dates(), last=st.none() | st.dates())
@example(first=None, last=date.max)
@example(first=date.max, last=None)
@example(first=None, last=date.min)
def test_any_days_of_the_calendar_are_an_answer_or_a_400_naming_the_parameter(api, first, last):
    given = {name: day.isoformat() for name, day in (("from", first), ("to", last)) if day is not None}

    for path in DATED:
        answer = api.get(path, query_string=given)
        assert answer.status_code in (200, 400), (path, given, answer.text)
        if answer.status_code == 400:
            assert {e["parameter"] for e in answer.json["errors"]} <= {"from", "to"}, answer.json
    daily = api.get("/api/v1/reports/daily", query_string={"date": (first or last or date.max).isoformat()})
    assert daily.status_code == 200
