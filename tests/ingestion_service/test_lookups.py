"""The look-ups of users and currencies, on their own connection: a database that does not answer, goes away or
holds a lock is the database's fault (the batch is retried), never the batch's, and the next look-up reconnects."""

import threading

import pytest
from sqlalchemy import text

from ingestion_service.lookups import Lookups
from payments_core.errors import DatabaseUnavailable
from platform_ops.servers import free_port
from tests.helpers.events import ALICE, BOB, CAROL


@pytest.fixture
def lookups(database_url):
    found = Lookups(database_url, statement_timeout_s=1)
    yield found
    found.close()


def test_users_and_currencies_are_found_by_id_name_and_code(lookups):
    lookups.fetch_missing(user_ids={str(ALICE.user_id)}, usernames={BOB.username}, currency_alphas={"EUR"},
                          currency_codes={840, 999})
    assert str(ALICE.user_id) in lookups.user_ids and lookups.user_by_name[BOB.username] == str(BOB.user_id)
    assert lookups.currency_by_alpha["EUR"] == 978 and lookups.currency_codes >= {840, 978}
    assert 999 not in lookups.currency_codes


def test_a_database_that_does_not_answer_is_unavailable():
    down = Lookups(f"postgresql://postgres@127.0.0.1:{free_port()}/payments")
    with pytest.raises(DatabaseUnavailable, match="unreachable"):
        down.fetch_missing(user_ids={str(ALICE.user_id)})


def test_a_connection_cut_between_look_ups_is_unavailable_once_then_reconnected(lookups, engine):
    lookups.fetch_missing(user_ids={str(ALICE.user_id)})
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE application_name = 'ingestion_lookups'"))

    with pytest.raises(DatabaseUnavailable, match="went away"):
        lookups.fetch_missing(user_ids={str(BOB.user_id)})
    lookups.fetch_missing(user_ids={str(BOB.user_id)})
    assert str(BOB.user_id) in lookups.user_ids


def test_a_lock_held_on_users_is_unavailable_after_the_statement_timeout_and_named(lookups, engine):
    locked, release = threading.Event(), threading.Event()

    def hold():
        with engine.begin() as conn:
            conn.execute(text("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"))
            locked.set()
            release.wait(30)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    try:
        assert locked.wait(10)
        with pytest.raises(DatabaseUnavailable, match="while looking up users and currencies, after the statement"):
            lookups.fetch_missing(usernames={CAROL.username})
        assert lookups.doing is None
    finally:
        release.set()
        holder.join(10)
    lookups.fetch_missing(usernames={CAROL.username})
    assert lookups.user_by_name[CAROL.username] == str(CAROL.user_id)
