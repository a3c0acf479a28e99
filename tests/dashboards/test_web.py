"""The built-in dashboard, on known data, through the test client and in Chromium."""

import re
import threading
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


def test_in_a_browser_the_suspicious_table_refreshes_live(importer_settings, known, engine):
    from playwright.sync_api import expect, sync_playwright

    from csv_importer import create_app

    app = create_app(importer_settings)
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = signed_in_page(browser, f"http://127.0.0.1:{server.server_port}", app, role="viewer")
            page.set_viewport_size({"width": 1280, "height": 1400})
            page.goto(f"http://127.0.0.1:{server.server_port}/dashboard")
            assert page.locator("#kpi-transactions").inner_text() == "5"
            with engine.begin() as conn:
                conn.execute(text(
                    "INSERT INTO transactions (transaction_id, sender_id, receiver_id, amount, currency_code, "
                    "transaction_date, status, is_suspicious, source) VALUES (:id, :s, :r, :a, 840, now(), "
                    "'pending', true, 'manual')"),
                    {"id": uuid.uuid4(), "s": BOB.user_id, "r": ALICE.user_id, "a": Decimal("12345.67")})
            expect(page.locator("#suspicious-table")).to_contain_text("12345.67", timeout=15_000)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
            page.click(f"text={ALICE.username} >> nth=0")
            page.wait_for_url(f"**/dashboard/users/{ALICE.username}")
            assert page.locator("#history tbody tr").count() == 5, "the four known and the one just added"
            assert page.console_errors == [], "nothing blocked by the Content-Security-Policy, no script error"
            browser.close()
    finally:
        server.shutdown()
