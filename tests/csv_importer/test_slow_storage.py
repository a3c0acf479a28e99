"""A file storage that accepts connections and never answers: each upload waiting for it costs only itself.

The app is served as in production (waitress, IMPORTER_THREADS serving threads) and driven over real sockets.
"""

import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import select, text

from payments_core.db.models import Import
from tests.helpers.importer import PASSWORD, ImporterClient, page_token
from tests.helpers.waiting import wait_until

HEADER, *ROWS = (Path(__file__).resolve().parents[2] / "csvs" / "regular_transactions.csv").read_bytes().splitlines()
S3_WAIT = 15  # S3_TIMEOUT_SECONDS here: far longer than a page may take while uploads wait for the storage


@pytest.fixture
def hung_s3():
    """An S3 endpoint that accepts every connection and never says a word; yields the count of connections."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    accepted: list[socket.socket] = []

    def accept():
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return  # closed at the end of the test

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    listener.close()
    for connection in accepted:
        connection.close()


@pytest.fixture
def served(importer_settings, hung_s3):
    from csv_importer import create_app, serving

    endpoint, accepted = hung_s3
    settings = importer_settings.model_copy(update={"s3_endpoint_url": endpoint, "s3_timeout_seconds": S3_WAIT,
                                                    "importer_threads": 8})
    app = create_app(settings)
    ImporterClient(app)  # makes the account
    server = serving.server(app, "127.0.0.1", 0, settings.importer_threads)
    threading.Thread(target=server.run, daemon=True).start()
    yield f"http://127.0.0.1:{server.effective_port}", accepted
    server.close()


def signed_in(base: str) -> requests.Session:
    session = requests.Session()
    token = page_token(session.get(base + "/login", timeout=10).text)
    answer = session.post(base + "/login", data={"csrf_token": token, "username": "tester", "password": PASSWORD},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 303, answer.text[:300]
    return session


def upload(base: str, session: requests.Session, part: int) -> requests.Response:
    """Upload a file of 100 rows of its own (the same content twice would be asked about, not archived)."""
    data = b"\n".join([HEADER, *ROWS[part * 100:(part + 1) * 100]]) + b"\n"
    token = page_token(session.get(base + "/", timeout=10).text)
    return session.post(base + "/imports", data={"csrf_token": token},
                        files={"file": (f"part-{part}.csv", data, "text/csv")},
                        headers={"X-Requested-With": "upload"}, timeout=S3_WAIT * 3)


def test_uploads_waiting_for_a_hung_storage_leave_sign_in_health_and_the_dashboard_answering(served, engine):
    base, accepted = served
    sessions = [signed_in(base) for _ in range(8)]

    with ThreadPoolExecutor(len(sessions)) as pool:
        uploads = [pool.submit(upload, base, session, n) for n, session in enumerate(sessions)]
        wait_until(lambda: len(accepted) >= 2, timeout=20, message="the uploads to reach the storage")

        # Meanwhile every other page answers (well within the storage's time limit), and no database transaction
        # is left open while the storage is waited for.
        reader = signed_in(base)
        for path in ("/health", "/login", "/dashboard", "/imports"):
            assert reader.get(base + path, timeout=5).status_code == 200, path
        with engine.connect() as conn:
            open_transactions = conn.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%'"))
        assert open_transactions == 0
        answers = [u.result() for u in uploads]

    # Each upload was told the truth, and nothing was recorded as imported.
    assert [a.status_code for a in answers] == [503] * len(answers)
    errors = [a.json()["error"] for a in answers]
    assert sum("did not answer in time" in e for e in errors) == 2, errors
    assert sum("answering slowly" in e for e in errors) == len(errors) - 2, errors
    assert all("nothing was published" in e for e in errors)
    with engine.connect() as conn:
        assert conn.execute(select(Import)).first() is None


def test_a_download_of_the_archived_file_while_the_storage_hangs_is_a_clear_503(served, engine):
    base, _ = served
    # An import whose file was archived before the storage hung.
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO imports (import_id, file_name, sha256, s3_key, size_bytes, rows_read, rows_unique,
                                 rows_duplicate, rows_suspicious, rows_malformed, rows_published, status)
            VALUES ('00000000-0000-4000-8000-000000000001', 'a.csv', repeat('0', 64), 'k/a.csv', 1, 1, 1, 0, 0, 0, 1,
                    'published')"""))

    answer = signed_in(base).get(base + "/imports/00000000-0000-4000-8000-000000000001/file", timeout=S3_WAIT * 2)

    assert answer.status_code == 503
    assert "did not answer in time" in answer.text
