"""The dashboard's live alert, as Server-Sent Events through the test client: what it counts, and that any `since`
gives a stream or a 400, and a stream closed early gives its slot back."""

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from tests.helpers.known_data import ALICE, BOB


@pytest.fixture
def alerts(importer, known):
    streams = importer.application.extensions["dashboard_alerts"]
    streams.every, streams.lasting = 0.1, 3.0
    return importer, streams


def events(response, wanted: int = 1) -> list[dict]:
    """The data of the first `wanted` alert events of a stream (the stream is closed after)."""
    found = []
    try:
        for chunk in response.response:
            chunk = chunk.decode() if isinstance(chunk, bytes) else chunk
            if chunk.startswith("event: alert"):
                found.append(json.loads(chunk.split("data: ", 1)[1]))
                if len(found) == wanted:
                    break
    finally:
        response.close()
    return found


def test_it_counts_what_arrived_since_the_page_opened(alerts, engine):
    client, _ = alerts
    opened = datetime.now(UTC)
    with engine.begin() as conn:
        for amount, age in [("9500.00", "0 seconds"), ("8000.01", "0 seconds"), ("20.00", "14 minutes 59 seconds"),
                            ("30.00", "20 minutes")]:  # the last was already past the limit when the page opened
            conn.execute(text("INSERT INTO transactions (transaction_id, sender_id, receiver_id, amount, "
                              "currency_code, transaction_date, status, is_suspicious, source) VALUES (:id, :s, :r, "
                              ":a, 840, now() - CAST(:age AS interval), 'pending', :a > 8000, 'manual')"),
                         {"id": uuid.uuid4(), "s": ALICE.user_id, "r": BOB.user_id, "a": Decimal(amount),
                          "age": age})

    response = client.get("/dashboard/alerts", query_string={"since": opened.isoformat()}, buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    seen = events(response, wanted=2)

    assert seen[0]["suspicious"] == 2, "the two suspicious payments written after the page opened"
    assert seen[-1] == {"suspicious": 2, "beyond_sla": 1}, "the one that went past 15 minutes after it opened"


def test_a_malformed_moment_is_a_400_naming_it(alerts):
    client, _ = alerts
    response = client.get("/dashboard/alerts?since=yesterday")

    assert response.status_code == 400
    assert "since should be a moment like 2025-07-07T10:00:00+00:00" in response.get_data(as_text=True)


def test_when_every_stream_is_taken_one_more_is_asked_to_come_back_later(alerts):
    client, streams = alerts
    streams.slots = type(streams.slots)(1)
    first = client.get("/dashboard/alerts", buffered=False)
    next(iter(first.response))  # started: it holds the one slot
    second = client.get("/dashboard/alerts", buffered=False)

    assert second.status_code == 200
    assert b"".join(second.response) == b"retry: 3000\n\n", "no error: the browser tries again, later"
    first.close()
    third = client.get("/dashboard/alerts", buffered=False)
    assert events(third) == [{"suspicious": 0, "beyond_sla": 0}], "the closed stream gave its slot back"


def test_one_account_holds_half_the_streams_at_most_and_another_still_gets_one(alerts, importer_settings):
    from tests.helpers.importer import ImporterClient

    client, streams = alerts
    open_streams = []
    for _ in range(streams.per_holder):  # the account's tabs
        response = client.get("/dashboard/alerts", buffered=False)
        next(iter(response.response))
        open_streams.append(response)
    one_more = client.get("/dashboard/alerts", buffered=False)
    other = ImporterClient(client.application, username="another-viewer", role="viewer")

    assert b"".join(one_more.response) == f"retry: {int(streams.lasting * 1000)}\n\n".encode()
    assert events(other.get("/dashboard/alerts", buffered=False)) == [{"suspicious": 0, "beyond_sla": 0}]
    for response in open_streams:
        response.close()
    assert events(client.get("/dashboard/alerts", buffered=False)), "closed tabs gave their slots back"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(since=st.one_of(st.text(max_size=40), st.datetimes(timezones=st.none() | st.just(UTC)).map(str),
                       st.datetimes().map(lambda d: d.isoformat())))
def test_any_since_gives_a_stream_or_a_400_and_never_holds_a_slot_after(alerts, since):
    client, streams = alerts
    response = client.get("/dashboard/alerts", query_string={"since": since}, buffered=False)

    assert response.status_code in (200, 400)
    if response.status_code == 200:
        chunks = iter(response.response)
        assert next(chunks).startswith(b"retry: ")
        assert next(chunks).startswith(b"event: alert"), "counted, whatever the moment"
    response.close()
    assert streams.slots.acquire(blocking=False), "a stream closed early gives its slot back"
    streams.slots.release()
