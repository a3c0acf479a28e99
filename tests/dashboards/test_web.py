"""The built-in dashboard, on known data, through the test client and in Chromium."""

import re
import threading
import time
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from platform_ops.servers import free_port
from tests.helpers.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, signed_in_page
from tests.helpers.known_data import ALICE, BOB


def tile(page, kpi):
    return re.search(rf'id="kpi-{kpi}">([^<]+)<', page.text).group(1)


def test_the_overview_shows_the_questions_numbers(importer, known):
    page = importer.get("/dashboard")

    assert page.status_code == 200
    assert (tile(page, "transactions"), tile(page, "completion"), tile(page, "suspicious")) == ("5", "60.0%", "2")
    assert page.text.count("<polyline") == 3, "one line per currency"
    assert f'href="/dashboard/users/{ALICE.username}"' in page.text
    assert "july.csv" in page.text and "unknown_user" in page.text


@pytest.mark.parametrize("query, transactions", [("currency=usd", "2"), (f"username={ALICE.username}", "4"),
                                                 ("date_from=2025-07-02&date_to=2025-07-02", "2"),
                                                 ("status=completed", "3")])
def test_filters_narrow_every_question(importer, known, query, transactions):
    assert tile(importer.get(f"/dashboard?{query}"), "transactions") == transactions


def test_a_malformed_date_is_named_not_a_server_error(importer, known):
    page = importer.get("/dashboard?date_from=07/02/2025")

    assert page.status_code == 400
    assert "date from should be a date like 2025-07-07" in page.text


def test_the_latest_suspicious_transactions_come_as_json_for_the_live_table(importer, known):
    data = importer.get("/dashboard/suspicious").json

    assert [row[3] for row in data["rows"]] == ["8000.01", "9000.00"]


def test_a_users_page_shows_activity_per_currency_and_history(importer, known):
    page = importer.get(f"/dashboard/users/{ALICE.username}")

    assert page.status_code == 200
    assert "<td>USD</td><td class=\"num\">2</td>" in page.text.replace("\n", "").replace("  ", "")
    assert page.text.count("<td>sent</td>") == 2 and page.text.count("<td>received</td>") == 2
    assert importer.get("/dashboard/users/nobody_at_all").status_code == 404


def test_in_a_browser_the_live_alert_and_the_suspicious_table_follow_new_payments(importer_settings, known, engine):
    """Pushed by Server-Sent Events: a suspicious payment arriving, and a pending one going past the 15 minutes
    allowed two seconds after the page opened, each counted in the alert; the suspicious table shows the new one."""
    from playwright.sync_api import expect, sync_playwright

    from csv_importer import create_app

    app = create_app(importer_settings)
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    insert = text("INSERT INTO transactions (transaction_id, sender_id, receiver_id, amount, currency_code, "
                  "transaction_date, status, is_suspicious, source) VALUES (:id, :s, :r, :a, 840, "
                  "now() - CAST(:age AS interval), 'pending', :a > 8000, 'manual')")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = signed_in_page(browser, f"http://127.0.0.1:{server.server_port}", app, role="viewer")
            page.set_viewport_size({"width": 1280, "height": 1400})
            page.goto(f"http://127.0.0.1:{server.server_port}/dashboard")
            assert page.locator("#kpi-transactions").inner_text() == "5"
            assert page.locator("#kpi-beyond-sla").inner_text() == "1", "the known pending payment of July 2025"
            expect(page.locator("#alerts")).to_be_hidden()
            with engine.begin() as conn:
                conn.execute(insert, {"id": uuid.uuid4(), "s": BOB.user_id, "r": ALICE.user_id,
                                      "a": Decimal("12345.67"), "age": "0 seconds"})
                conn.execute(insert, {"id": uuid.uuid4(), "s": ALICE.user_id, "r": BOB.user_id,
                                      "a": Decimal("20.00"), "age": "14 minutes 58 seconds"})
            expect(page.locator("#alerts")).to_have_text(
                "Since this page opened: 1 suspicious payment, 1 payment pending beyond SLA.", timeout=15_000)
            expect(page.locator("#suspicious-table")).to_contain_text("12345.67", timeout=15_000)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
            page.click(f"text={ALICE.username} >> nth=0")
            page.wait_for_url(f"**/dashboard/users/{ALICE.username}")
            assert page.locator("#history tbody tr").count() == 6, "the four known and the two just added"
            assert page.console_errors == [], "nothing blocked by the Content-Security-Policy, no script error"
            browser.close()
    finally:
        server.shutdown()


def test_the_json_carries_an_etag_and_a_client_that_has_it_gets_a_304(importer, known):
    first = importer.get("/dashboard/questions/status_split?currency=EUR")
    again = importer.get("/dashboard/questions/status_split?currency=EUR",
                         headers={"If-None-Match": first.headers["ETag"]})
    other = importer.get("/dashboard/questions/status_split?currency=USD",
                         headers={"If-None-Match": first.headers["ETag"]})

    assert first.json["rows"] == [["completed", "1"], ["failed", "1"]]
    assert first.headers["Cache-Control"] == "private, max-age=5"
    assert (again.status_code, again.data) == (304, b"")
    assert other.status_code == 200 and other.json["rows"] == [["completed", "1"], ["pending", "1"]]


def test_an_unknown_question_is_a_404_naming_it(importer, known):
    answer = importer.get("/dashboard/questions/nothing_here", headers={"Accept": "application/json"})

    assert answer.status_code == 404 and "nothing_here" in answer.get_data(as_text=True)


def test_an_answer_is_reused_for_a_few_seconds_then_asked_again(importer, known):
    count = "/dashboard/questions/transaction_count"
    assert importer.get(count).json["rows"] == [["5"]]
    with known.begin() as conn:
        conn.execute(text("DELETE FROM transactions WHERE currency_code = 826"))
        conn.execute(text("SELECT refresh_payment_totals()"))

    assert importer.get(count).json["rows"] == [["5"]], "within the cache's seconds"
    importer.application.extensions["dashboard_cache"].seconds = 0.2
    time.sleep(0.3)
    assert importer.get(count).json["rows"] == [["4"]]


def test_a_users_history_pages_back_by_keyset(importer, known):
    with known.begin() as conn:  # 450 more payments from Alice to Bob, a minute apart
        conn.execute(text("""
            INSERT INTO transactions (transaction_id, sender_id, receiver_id, amount, currency_code, transaction_date,
                                      status, source)
            SELECT gen_random_uuid(), :alice, :bob, n, 840, timestamptz '2025-08-01' + n * interval '1 minute',
                   'completed', 'generator'
            FROM generate_series(1, 450) AS n"""), {"alice": ALICE.user_id, "bob": BOB.user_id})
    seen, url = [], f"/dashboard/users/{ALICE.username}"
    while url:
        page = importer.get(url)
        assert page.status_code == 200
        seen += re.findall(r"<td>(\d{4}-\d\d-\d\d \d\d:\d\d)</td>", page.text)
        older = re.search(r'id="older" href="([^"]+)"', page.text)
        url = older.group(1).replace("&amp;", "&") if older else None

    assert len(seen) == 450 + 4, "every payment of Alice's once: 450 new and 4 known"
    assert seen == sorted(seen, reverse=True)


@pytest.mark.parametrize("query", ["before=yesterday&before_id=x", "before=2025-07-01T00:00:00&before_id=12",
                                   "before_id=" + str(uuid.uuid4())])
def test_a_malformed_page_position_is_a_400_naming_it(importer, known, query):
    page = importer.get(f"/dashboard/users/{ALICE.username}?{query}")

    assert page.status_code == 400 and "before and before_id should be" in page.text
