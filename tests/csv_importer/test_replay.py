"""An import's refused rows sent again from its page once their cause is fixed: stored once, counted as stored,
and a second replay sends nothing."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from tests.helpers.events import ALICE, BOB
from tests.helpers.importer import import_and_wait
from tests.helpers.waiting import wait_until

FILE = ("username_sender,username_receiver,amount,currency,transaction_date,status\n"
        f"{ALICE.username},{BOB.username},10.00,EUR,2025-07-07 01:42:05 UTC,completed\n"
        f"newcomer,{BOB.username},20.00,EUR,2025-07-07 02:42:05 UTC,completed\n"
        f"{ALICE.username},{BOB.username},30.00,XXQ,2025-07-07 03:42:05 UTC,completed\n").encode()


def status(importer, location):
    return importer.get(location + "/status").json


def test_refused_rows_sent_again_once_fixed_are_stored_once_and_counted_as_stored(importer, importer_ingestion,
                                                                                  engine):
    location, first = import_and_wait(importer, FILE, "july.csv")
    assert (first["in_database"], first["rejected"]) == (1, 2)
    with engine.begin() as conn:  # one cause fixed: the user exists now; the currency is still unknown
        conn.execute(text("INSERT INTO users (user_id, username, full_name, email) VALUES (:id, 'newcomer', "
                          "'New Comer', 'new@example.org')"), {"id": uuid.uuid4()})

    sent = importer.post(location + "/replay", data={"csrf_token": importer.token})
    page = importer.get(sent.headers["Location"]).text
    after = wait_until(lambda: (s := status(importer, location))["in_database"] == 2 and s, timeout=60,
                       message="the fixed row stored")
    # The row still wrong was refused again; wait until that refusal is recorded too.
    wait_until(lambda: _refusals(engine) == 3, message="the unfixed row refused again")
    again = importer.post(location + "/replay", data={"csrf_token": importer.token})
    final = status(importer, location)

    assert sent.status_code == 303 and "2 refused rows sent again" in page
    assert (after["in_database"], after["rejected"], after["complete"]) == (2, 1, True)
    assert [r["line"] for r in after["rejections"]] == [4]  # only the row still refused is listed
    assert "sent_again=1" in again.headers["Location"]  # only the row still refused goes again
    wait_until(lambda: _refusals(engine) == 4, message="the unfixed row refused once more")
    final = status(importer, location)
    assert (final["in_database"], final["rejected"], final["published"]) == (2, 1, 3)
    with engine.connect() as conn:
        stored = conn.scalar(text("SELECT count(*) FROM transactions WHERE amount = 20"))
    assert stored == 1


def _refusals(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT count(*) FROM rejected_events"))
