"""The app as production serves it (waitress): a body over the limit is refused with the app's own answer, before
it is read, whatever way it is sent."""

import threading

import pytest
import requests

from tests.helpers.importer import PASSWORD, ImporterClient, page_token


@pytest.fixture
def served(importer_settings):
    from csv_importer import create_app, serving

    app = create_app(importer_settings.model_copy(update={"importer_max_upload_mb": 1}))
    ImporterClient(app)  # makes the account
    server = serving.server(app, "127.0.0.1", 0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{server.effective_port}"
    session = requests.Session()
    token = page_token(session.get(base + "/login", timeout=10).text)
    session.post(base + "/login", data={"csrf_token": token, "username": "tester", "password": PASSWORD}, timeout=10)
    yield base, session, page_token(session.get(base + "/", timeout=10).text)
    server.close()


def chunks(size: int):
    for _ in range(size // 65536):
        yield b"x" * 65536


@pytest.mark.parametrize("how", ["with its length", "in chunks"])
def test_a_body_far_over_the_limit_gets_the_apps_page(served, how):
    base, session, token = served
    body = b"x" * (3 * 1024 * 1024)
    data = body if how == "with its length" else chunks(len(body))

    answer = session.post(base + "/imports", params={"csrf_token": token}, data=data,
                          headers={"Content-Type": "multipart/form-data; boundary=b"}, timeout=30)

    assert answer.status_code == 413
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "larger than 1 MB, the most the importer takes" in answer.text
    assert "Split it into smaller files" in answer.text


def test_the_upload_pages_script_gets_the_refusal_as_json(served):
    base, session, _ = served

    answer = session.post(base + "/imports", data=b"x" * (3 * 1024 * 1024), timeout=30,
                          headers={"X-Requested-With": "upload", "Accept": "application/json",
                                   "Content-Type": "multipart/form-data; boundary=b"})

    assert answer.status_code == 413
    assert "larger than 1 MB" in answer.json()["error"]
