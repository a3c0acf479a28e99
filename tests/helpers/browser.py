"""Debian's Chromium for the end-to-end tests (Playwright with executable_path: no browser download)."""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["ARTIFACTS", "CHROMIUM", "CHROMIUM_ARGS"]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium's own calls home are refused on a closed network, many at a time: keep it quiet and offline.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def signed_in_page(browser, base_url: str, app, role: str = "importer"):
    """A new page of `browser`, signed in through the login form to an account of `role` (made if missing); its
    console errors (a script or style the Content-Security-Policy blocked, above all) are kept in
    `page.console_errors`."""
    from csv_importer import accounts
    from tests.helpers.importer import PASSWORD

    username = f"browser-{role}"
    try:
        accounts.add(app.extensions["importer"].engine, username, PASSWORD, role)
    except accounts.AccountProblem:
        pass
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.console_errors = []

    def console(message):
        # An HTTP error the app answers on purpose (a 422 for a bad file) is logged as "Failed to load resource";
        # what is kept is the rest: a blocked script or style, a script error.
        if message.type == "error" and not message.text.startswith("Failed to load resource: the server responded"):
            page.console_errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    page.goto(base_url + "/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_load_state()
    return page
