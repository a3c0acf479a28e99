"""Sign-in in front of every page: accounts, roles, throttling, expiry, sign-out, and the headers of every answer."""

import gc
import logging
import threading
import time
import tracemalloc
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from csv_importer import accounts, create_app, sessions
from csv_importer.throttle import Throttle
from csv_importer.views.auth import OPEN_ENDPOINTS
from payments_core.db.models import Account
from tests.helpers.importer import PASSWORD, ImporterClient, page_token


def every_route(app):
    """(method, URL, endpoint) for every rule of the URL map, with a made-up value for each argument."""
    made_up = {"uuid": str(uuid.uuid4()), "default": "someone", "path": "a.css"}
    for rule in app.url_map.iter_rules():
        values = {name: made_up.get(type(conv).__name__.removesuffix("Converter").lower(), "someone")
                  for name, conv in rule._converters.items()}
        url = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url, rule.endpoint


@pytest.fixture
def app(importer_settings):
    return create_app(importer_settings)


# Open to anyone: the API's document and its documentation page.
API_DOCUMENTATION = {"api.openapi", "api.docs", "api.docs_asset", "api.static"}


def test_every_route_but_the_open_ones_needs_a_sign_in(app):
    client = app.test_client()
    checked = 0
    for method, url, endpoint in every_route(app):
        if endpoint in OPEN_ENDPOINTS or endpoint in API_DOCUMENTATION:
            continue
        if endpoint.startswith("api."):  # the API takes a token, never a session: tests/payments_api
            answer = client.open(url, method=method)
            assert answer.status_code == 401 and answer.content_type == "application/problem+json", (method, url)
            checked += 1
            continue
        page = client.open(url, method=method)
        asked = client.open(url, method=method, headers={"X-Requested-With": "fetch"})

        assert page.status_code == 303 and page.headers["Location"].startswith("/login?next="), (method, url)
        assert asked.status_code == 401 and asked.json["error"], (method, url)
        checked += 1
    assert checked >= 14, "the map was walked"


def test_a_viewer_sees_the_dashboard_and_nothing_else(app):
    viewer = ImporterClient(app, "watcher", role="viewer")

    assert viewer.get("/dashboard").status_code == 200
    assert viewer.get("/").headers["Location"] == "/dashboard"
    assert viewer.upload(b"username_sender\nx\n").status_code == 403
    for url in ("/imports", f"/imports/{uuid.uuid4()}", "/sample.csv"):
        assert viewer.get(url).status_code == 403, url


def test_the_password_is_stored_as_an_argon2id_hash_and_never_logged(app, engine, caplog):
    client = app.test_client()
    accounts.add(engine, "hashed", PASSWORD, "importer")
    caplog.set_level(logging.INFO)

    token = page_token(client.get("/login").text)
    wrong = client.post("/login", data={"csrf_token": token, "username": "hashed", "password": "wrong-password!"})

    with engine.connect() as conn:
        stored = conn.scalar(select(Account.password_hash).where(Account.username == "hashed"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert wrong.status_code == 401 and "do not match an active account" in wrong.text
    assert "failed sign-in for 'hashed'" in caplog.text and "wrong-password!" not in caplog.text


def test_the_login_form_needs_its_csrf_token(app, engine):
    accounts.add(engine, "forged", PASSWORD, "importer")

    response = app.test_client().post("/login", data={"username": "forged", "password": PASSWORD})

    assert response.status_code == 400


def test_repeated_failures_slow_that_address_down_for_the_account_but_never_lock_the_person_out(app, engine):
    accounts.add(engine, "guessed", PASSWORD, "importer")
    attacker, person = app.test_client(), app.test_client()
    token = page_token(attacker.get("/login").text)
    for _ in range(5):
        assert attacker.post("/login", data={"csrf_token": token, "username": "guessed",
                                             "password": "not-the-password"}).status_code == 401

    right = attacker.post("/login", data={"csrf_token": token, "username": "guessed", "password": PASSWORD})
    assert right.status_code == 429 and "Too many failed sign-ins. Try again in 1 second." in right.text

    # The person, at an address of their own, signs in at once.
    token = page_token(person.get("/login", environ_base={"REMOTE_ADDR": "10.9.8.7"}).text)
    signed_in = person.post("/login", data={"csrf_token": token, "username": "guessed", "password": PASSWORD},
                            environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert signed_in.status_code == 303


def test_the_delay_doubles_with_each_failure_per_pair_and_per_address_and_is_forgotten():
    now = [0.0]
    throttle = Throttle(free_per_pair=3, free_per_address=5, first_delay_s=1, most_delay_s=8, forget_s=60,
                        clock=lambda: now[0])
    for _ in range(3):
        throttle.failed("user0", "10.0.0.1")
    assert throttle.wait_s("user0", "10.0.0.1") == 1, "three failures of the pair: a second"
    assert throttle.wait_s("USER0", "10.0.0.1") == 1, "an account's name in any case"
    assert throttle.wait_s("user0", "10.0.0.2") == 0, "another address is not slowed down"
    for _ in range(3):
        throttle.failed("user0", "10.0.0.1")
    assert throttle.wait_s("user0", "10.0.0.1") == 8, "doubling up to the ceiling"
    assert throttle.wait_s("someone-else", "10.0.0.1") == 2, "six failures from the address, five free"
    now[0] = 61
    assert throttle.wait_s("user0", "10.0.0.1") == 0, "an hour without failures forgets them"
    throttle.failed("user0", "10.0.0.1")
    assert throttle.wait_s("user0", "10.0.0.1") == 0, "counting afresh"


def test_many_addresses_guessing_one_account_are_slowed_together_but_not_where_the_person_signed_in_before():
    throttle = Throttle(free_per_pair=5, free_per_address=20, free_per_account=50, first_delay_s=1,
                        clock=lambda: 0.0)
    throttle.succeeded("victim", "10.0.0.1")  # the person's own address, where they signed in before
    for n in range(50):  # fifty addresses, one guess each: no pair and no address is past its free failures
        assert throttle.attempt("victim", f"203.0.113.{n}") == 0
    throttle.failed("victim", "203.0.113.200")

    assert throttle.wait_s("victim", "198.51.100.7") == 2, "one more address waits: 51 failures, 50 free"
    assert throttle.wait_s("victim", "10.0.0.1") == 0, "the person signs in at once where they did before"
    assert throttle.wait_s("someone-else", "198.51.100.7") == 0, "another account is not slowed down"


@settings(max_examples=50)
@given(st.lists(st.tuples(st.text(max_size=3000), st.text(max_size=50), st.booleans()), max_size=300))
def test_the_throttle_keeps_a_bounded_number_of_fixed_size_keys_whatever_is_sent(attempts):
    throttle = Throttle(capacity=64)
    for account, address, failed in attempts:
        assert throttle.wait_s(account, address) >= 0
        (throttle.failed if failed else throttle.succeeded)(account, address)
        assert len(throttle) <= 64 and len(throttle._known) <= 64
        assert all(len(key) == 16 for key in [*throttle._failures, *throttle._known])


def test_huge_usernames_sent_anonymously_do_not_grow_the_apps_memory(app):
    client = app.test_client()
    token = page_token(client.get("/login").text)
    form = {"csrf_token": token, "password": "x"}
    client.post("/login", data={**form, "username": "warm-up"})
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for n in range(200):
        client.post("/login", data={**form, "username": f"{n}" + "u" * 450_000},
                    environ_base={"REMOTE_ADDR": f"10.0.{n // 250}.{n % 250}"})
    gc.collect()  # the test client's own request bodies, not yet collected, are not the app's
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    # Before, each name was kept whole: 90 MB. Now a fixed-size key per attempt, and the log's line.
    assert grown < 2_000_000, f"{grown:,} bytes kept after 200 failed sign-ins of 450 KB names"


def test_behind_a_trusted_proxy_the_client_address_is_the_forwarded_one(importer_settings, engine):
    app = create_app(importer_settings.model_copy(update={"importer_trusted_proxies": 1}))
    accounts.add(engine, "proxied", PASSWORD, "importer")
    client = app.test_client()
    token = page_token(client.get("/login").text)
    for n in range(5):  # five people behind the proxy, each failing once: nobody is slowed down
        client.post("/login", data={"csrf_token": token, "username": "proxied", "password": "wrong"},
                    headers={"X-Forwarded-For": f"203.0.113.{n}"})
    right = client.post("/login", data={"csrf_token": token, "username": "proxied", "password": PASSWORD},
                        headers={"X-Forwarded-For": "203.0.113.99"})
    assert right.status_code == 303


def test_a_session_ends_after_its_time_at_sign_out_and_with_a_new_password(app, engine):
    client = ImporterClient(app, "tired")
    assert client.get("/imports").status_code == 200

    with client.session_transaction() as session:
        session["signed_in_at"] = time.time() - app.extensions["importer"].settings.importer_session_minutes * 60 - 1
    assert client.get("/imports").headers["Location"].startswith("/login")

    client = ImporterClient(app, "tired")
    client.post("/logout", data={"csrf_token": client.token})
    assert client.get("/imports").headers["Location"].startswith("/login")

    client = ImporterClient(app, "tired")
    time.sleep(0.01)
    accounts.set_password(engine, "tired", "another-long-password")
    assert client.get("/imports").headers["Location"].startswith("/login")


def test_a_copy_of_the_cookie_opens_nothing_after_sign_out(app):
    client = ImporterClient(app, "careful")
    copy = client.get_cookie("session").value
    client.post("/logout", data={"csrf_token": client.token})

    replayed = app.test_client()
    replayed.set_cookie("session", copy)
    assert replayed.get("/imports").headers["Location"].startswith("/login")
    assert replayed.post("/imports", data={}).headers["Location"].startswith("/login"), "never an upload"


def test_sign_out_everywhere_ends_the_accounts_other_sessions_and_no_one_elses(app):
    laptop, phone, colleague = ImporterClient(app, "roaming"), ImporterClient(app, "roaming"), \
        ImporterClient(app, "colleague")
    assert phone.get("/imports").status_code == 200

    laptop.post("/logout/everywhere", data={"csrf_token": laptop.token})

    assert phone.get("/imports").headers["Location"].startswith("/login")
    assert laptop.get("/imports").headers["Location"].startswith("/login")
    assert colleague.get("/imports").status_code == 200


def test_a_disabled_account_cannot_sign_in_and_its_sessions_end(app, engine):
    client = ImporterClient(app, "leaving")

    accounts.disable(engine, "leaving")

    assert client.get("/imports").headers["Location"].startswith("/login")
    assert client.sign_in("leaving", PASSWORD).status_code == 401


def test_every_answer_carries_the_protective_headers(app):
    client = ImporterClient(app)
    for method, url, _ in every_route(app):
        if method != "GET":
            continue
        response = client.get(url)
        headers = response.headers
        assert "script-src 'self'" in headers["Content-Security-Policy"], url
        assert "unsafe-inline" not in headers["Content-Security-Policy"], url
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], url
        assert (headers["X-Content-Type-Options"], headers["Referrer-Policy"]) == ("nosniff", "same-origin"), url


def test_the_session_cookie_is_http_only_same_site_and_secure_when_asked(importer_settings):
    for secure in (False, True):
        app = create_app(importer_settings.model_copy(update={"importer_secure_cookies": secure}))
        client = app.test_client()
        page_token(client.get("/login").text)
        cookie = client.get_cookie("session")

        assert cookie.http_only and cookie.same_site == "Lax" and cookie.secure is secure


def test_a_method_a_route_does_not_take_is_a_405_with_allow(app):
    client = ImporterClient(app)

    wrong = client.delete("/imports")
    unknown = client.open("/imports", method="BREW")

    assert wrong.status_code == 405 and set(wrong.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert unknown.status_code == 405 and "GET" in unknown.headers["Allow"]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200), st.text(max_size=200), st.text(max_size=300))
def test_any_login_form_is_answered_without_a_500_and_never_sends_the_person_to_another_site(
    app, username, password, next_url
):
    client = app.test_client()
    token = page_token(client.get("/login").text)

    response = client.post("/login", data={"csrf_token": token, "username": username, "password": password,
                                           "next": next_url})

    assert response.status_code in (303, 400, 401, 429)
    if response.status_code == 303:
        assert response.headers["Location"].startswith("/")


def test_a_username_with_a_nul_is_a_failed_sign_in_not_a_500(app):
    # Found by the property above: the NUL reached PostgreSQL.
    client = app.test_client()
    token = page_token(client.get("/login").text)

    response = client.post("/login", data={"csrf_token": token, "username": "ë\x00=", "password": "whatever"})

    assert response.status_code == 401


@pytest.mark.parametrize("elsewhere", ["https://evil.example/", "//evil.example/", "/\\evil.example/",
                                       "javascript:alert(1)", "/\tevil"])
def test_after_signing_in_the_person_never_goes_to_another_site(app, engine, elsewhere):
    accounts.add(engine, "nexted", PASSWORD, "importer")
    client = app.test_client()
    token = page_token(client.get("/login").text)

    response = client.post("/login", data={"csrf_token": token, "username": "nexted", "password": PASSWORD,
                                           "next": elsewhere})

    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_parallel_attempts_are_checked_and_counted_at_once():
    throttle = Throttle(free_per_pair=5)
    for _ in range(4):
        throttle.failed("target", "10.0.0.1")
    start, allowed = threading.Barrier(8), []

    def attempt():
        start.wait()
        if throttle.attempt("target", "10.0.0.1") == 0:
            allowed.append(1)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 1, "one attempt left before the delay; eight at once get one between them"


def test_a_session_is_not_begun_for_a_password_changed_while_it_was_checked(app, engine):
    accounts.add(engine, "changing", PASSWORD, "importer")
    checked = accounts.authenticate(engine, "changing", PASSWORD)
    time.sleep(0.01)
    accounts.set_password(engine, "changing", "a-new-long-password")

    assert sessions.begin(engine, checked) is None
    assert sessions.begin(engine, accounts.authenticate(engine, "changing", "a-new-long-password")) is not None
