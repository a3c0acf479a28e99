"""The API's documentation page in a real browser (Debian's chromium): it shows every endpoint from the app's own
document, under the app's Content-Security-Policy, and fetches nothing from another site."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest


@pytest.fixture
def served(importer_settings):
    from csv_importer import create_app, serving

    server = serving.server(create_app(importer_settings), "127.0.0.1", 0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()

def test_the_documentation_page_shows_every_endpoint_offline(served, browser):
    from payments_api.endpoints import ENDPOINTS

    page = browser.new_page()
    errors, hosts = [], set()
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc))

    page.goto(f"{served}/api/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)

    shown = {(el.get_attribute("data-path") or el.inner_text()).strip()
             for el in page.query_selector_all(".opblock-summary-path")}
    assert shown == {"/api" + e.path for e in ENDPOINTS}
    assert "Payments platform API" in page.inner_text(".info")
    assert hosts <= {urlsplit(served).netloc}, hosts
    assert not errors, errors
