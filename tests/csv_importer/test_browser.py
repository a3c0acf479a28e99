"""End to end in a real browser (Playwright driving Debian's Chromium): upload a file, see the duplicates and
suspicious rows, then see the rows reach PostgreSQL and the import complete."""

import threading
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from platform_ops.servers import free_port
from tests.helpers.browser import ARTIFACTS, signed_in_page

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(importer_settings, start_service):
    from csv_importer import create_app
    from ingestion_service.settings import IngestionSettings

    shared = {k: v for k, v in importer_settings.model_dump().items() if k in IngestionSettings.model_fields}
    start_service(IngestionSettings(**{**shared, "ingestion_group_id": f"ingest-{uuid.uuid4().hex[:6]}",
                                       "ingestion_session_timeout_ms": 2000, "ingestion_http_port": 0,
                                       "ingestion_batch_max_wait_ms": 50}, _env_file=None))
    app = create_app(importer_settings)
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", app
    server.shutdown()


def test_upload_see_duplicates_and_suspicious_rows_then_the_import_complete(served, browser):
    base, app = served
    page = signed_in_page(browser, base, app)
    page.goto(base + "/")
    assert page.locator("h1").inner_text() == "Import payments from a CSV file"

    page.set_input_files("#file", str(ROOT / "csvs" / "suspicious_duplicated_transactions.csv"))
    assert page.locator("#drop-text").inner_text() == "suspicious_duplicated_transactions.csv"
    page.click("#submit")
    page.wait_for_url("**/imports/*", timeout=30_000)

    assert page.locator("#outcome").inner_text() == "All 180 unique rows were published."
    assert page.locator("#rows-duplicate").inner_text() == "20"
    assert page.locator("#duplicate tbody tr").count() == 19, "one row is there three times"
    assert page.locator("#suspicious tbody tr").count() == 29
    assert page.locator("#duplicate tbody tr").first.locator("td.repeats").inner_text()[0].isdigit(), "its repeats"
    # Waited for with a locator: an evaluated string is what the Content-Security-Policy forbids.
    expect(page.locator("#state")).to_have_text("complete", timeout=60_000)
    assert page.locator("#in-database").inner_text() == "180"
    assert page.locator("#rejected").inner_text() == "0"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "importer-result.png"), full_page=False)

    assert page.locator("#uploaded-by").inner_text() == "browser-importer"
    page.click("text=Imports")
    assert page.locator("table tbody tr").count() == 1
    assert "suspicious_duplicated_transactions.csv" in page.locator("table").inner_text()
    assert page.console_errors == [], "nothing blocked by the Content-Security-Policy, no script error"


def test_a_file_the_importer_cannot_read_is_explained_on_the_page(served, browser, tmp_path):
    base, app = served
    bad = tmp_path / "people.csv"
    bad.write_text("name,age\nbob,4\n")
    page = signed_in_page(browser, base, app)
    page.goto(base + "/")

    page.set_input_files("#file", str(bad))
    page.click("#submit")

    page.wait_for_selector("#error:not([hidden])", timeout=15_000)
    assert "does not look like a payments CSV" in page.locator("#error").inner_text()
    assert page.url == base + "/"
    assert page.console_errors == []


def test_a_file_dropped_on_the_page_is_uploaded_under_the_content_security_policy(served, browser):
    base, app = served
    page = signed_in_page(browser, base, app)
    page.goto(base + "/")
    rows = (ROOT / "csvs" / "regular_transactions.csv").read_text()

    dropped = page.evaluate_handle("""(text) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([text], 'dropped.csv', {type: 'text/csv'}));
        return transfer;
    }""", rows)
    page.dispatch_event("#drop", "drop", {"dataTransfer": dropped})
    assert page.locator("#drop-text").inner_text() == "dropped.csv"
    page.click("#submit")

    page.wait_for_url("**/imports/*", timeout=30_000)
    assert "dropped.csv" in page.locator("h1").inner_text()
    assert page.console_errors == []


def test_a_file_over_the_limit_is_refused_in_the_page_with_the_apps_message(importer_settings, browser, tmp_path):
    from csv_importer import create_app

    app = create_app(importer_settings.model_copy(update={"importer_max_upload_mb": 1}))
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * (2 * 1024 * 1024))
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        page = signed_in_page(browser, base, app)
        page.goto(base + "/")
        page.set_input_files("#file", str(big))
        page.click("#submit")

        page.wait_for_selector("#error:not([hidden])", timeout=15_000)
        assert page.locator("#error").inner_text().startswith("The file is larger than 1 MB, the most the importer")
    finally:
        server.shutdown()


def test_when_the_answer_is_lost_after_the_upload_the_page_says_it_cannot_tell_and_where_to_look(
    importer_settings, browser
):
    from csv_importer import create_app

    app = create_app(importer_settings)

    def proxy_that_stopped_waiting(environ, start_response):
        """The app imports the file; the proxy in front of it answers 504 instead of the app's answer."""
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == "/imports":
            b"".join(app(environ, lambda *_: None))
            start_response("504 Gateway Timeout", [("Content-Type", "text/plain")])
            return [b"Gateway Timeout"]
        return app(environ, start_response)

    server = make_server("127.0.0.1", free_port(), proxy_that_stopped_waiting, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        page = signed_in_page(browser, base, app)
        page.goto(base + "/")
        page.set_input_files("#file", str(ROOT / "csvs" / "regular_transactions.csv"))
        page.click("#submit")

        page.wait_for_selector("#error:not([hidden])", timeout=30_000)
        said = page.locator("#error").inner_text()
        assert "cannot tell whether the file was imported" in said and "Look in Imports" in said
        assert "nothing was imported" not in said
        page.click("text=Imports")
        assert "regular_transactions.csv" in page.locator("table").inner_text(), "it was imported, as the page allowed"
    finally:
        server.shutdown()
