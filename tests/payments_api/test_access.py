"""Who may call the API: a token of the right scope, open and not expired, within its rate. Tokens are kept
hashed, shown once, and managed from the command line and by their owner on a web page."""

from __future__ import annotations

import hashlib
import io

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from payments_api import tokens
from platform_ops.cli import cli
from tests.helpers.importer import ImporterClient

CSV = (b"username_sender,username_receiver,amount,currency,transaction_date,status\n"
       b"alice_martin,bob_nguyen,10.00,EUR,2025-07-07 01:42:05 UTC,completed\n")


@pytest.fixture
def app(importer_settings):
    from csv_importer import create_app

    return create_app(importer_settings.model_copy(update={"api_requests_per_minute": 60}))


def engine_of(app):
    return app.extensions["importer"].engine


def call(app, token: str | None, path: str = "/api/v1/payments", method: str = "GET", **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return app.test_client().open(path, method=method, headers=headers, **kwargs)


def test_without_a_token_or_with_a_wrong_one_the_answer_is_401_saying_how_to_send_one(app):
    made = tokens.create(engine_of(app), "finance", ["read"]).token

    for token in (None, "not-a-token", made[:-1] + ("A" if made[-1] != "A" else "B")):
        answer = call(app, token)
        assert answer.status_code == 401, token
        assert answer.content_type == "application/problem+json"
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        assert "Bearer <token>" in answer.json["detail"]
    assert call(app, made).status_code == 200


def test_a_signed_in_session_opens_no_api_endpoint(app):
    person = ImporterClient(app, "signed-in")

    for path in ("/api/v1/payments", "/api/v1/imports", "/api/v1/reports/daily?date=2025-07-07"):
        assert person.get(path).status_code == 401, path
    refused = person.post("/api/v1/imports", data={"csrf_token": person.token, "file": (io.BytesIO(CSV), "a.csv")})
    assert refused.status_code == 401


def test_a_token_does_only_what_its_scopes_allow(app):
    reader = tokens.create(engine_of(app), "reader", ["read"]).token
    uploader = tokens.create(engine_of(app), "uploader", ["import"]).token

    refused_upload = call(app, reader, "/api/v1/imports", "POST",
                          data={"file": (io.BytesIO(CSV), "a.csv")})
    refused_read = call(app, uploader)

    assert refused_upload.status_code == 403 and "'import'" in refused_upload.json["detail"]
    assert refused_read.status_code == 403 and "'read'" in refused_read.json["detail"]


def test_a_revoked_or_expired_token_opens_nothing_and_says_why(app):
    engine = engine_of(app)
    revoked = tokens.create(engine, "old-job", ["read"]).token
    expiring = tokens.create(engine, "trial", ["read"], expires_in_days=1).token
    assert call(app, revoked).status_code == 200

    assert tokens.revoke(engine, "old-job")
    with engine.begin() as conn:
        conn.execute(text("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE name = 'trial'"))

    assert call(app, revoked).status_code == 401 and "revoked" in call(app, revoked).json["detail"]
    assert call(app, expiring).status_code == 401 and "expired" in call(app, expiring).json["detail"]
    # The name of a revoked token is free again.
    assert call(app, tokens.create(engine, "old-job", ["read"]).token).status_code == 200


def test_the_database_holds_neither_the_token_nor_its_secret(app):
    made = tokens.create(engine_of(app), "finance", ["read"]).token

    with engine_of(app).connect() as conn:
        stored = conn.execute(text("SELECT api_tokens::text, secret_hash FROM api_tokens")).one()

    secret = made.split("_", 2)[2]  # pay_<public id>_<secret>
    assert secret not in stored[0] and made not in stored[0]
    assert bytes(stored[1]) == hashlib.sha256(secret.encode()).digest()


def test_a_token_beyond_its_rate_gets_429_with_the_seconds_to_wait(app):
    made = tokens.create(engine_of(app), "busy", ["read"]).token
    other = tokens.create(engine_of(app), "quiet", ["read"]).token

    answers = [call(app, made).status_code for _ in range(12)]

    assert answers[:10] == [200] * 10  # the burst: a sixth of a minute's rate, at least 10
    refused = call(app, made)
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 2
    assert call(app, other).status_code == 200  # each token has its own rate


def test_tokens_from_the_command_line(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()

    made = runner.invoke(cli, ["tokens", "create", "nightly", "--scope", "read", "--scope", "import",
                               "--expires-in", "30"])
    listed = runner.invoke(cli, ["tokens", "list"])
    twice = runner.invoke(cli, ["tokens", "create", "nightly", "--scope", "read"])
    revoked = runner.invoke(cli, ["tokens", "revoke", "nightly"])
    again = runner.invoke(cli, ["tokens", "revoke", "nightly"])

    assert made.exit_code == 0, made.output
    assert made.stdout.count("\n") == 1 and made.stdout.startswith("pay_")  # alone on standard output
    assert "not shown again" in made.stderr
    assert "nightly\tread,import\t-\texpires" in listed.output and made.stdout.strip() not in listed.output
    assert twice.exit_code == 1 and "already has an open token named 'nightly'" in twice.output
    assert revoked.exit_code == 0 and again.exit_code == 1 and "no open token of the command line" in again.output


def test_an_importer_manages_their_own_tokens_on_a_web_page(app):
    alice = ImporterClient(app, "alice-importer")
    bob = ImporterClient(app, "bob-importer")

    page = alice.post("/tokens", data={"csrf_token": alice.token, "name": "alice-sheet", "scopes": ["read"],
                                       "expires_in": "7"})
    shown = page.text.split('id="new-token">', 1)[1].split("<", 1)[0]

    assert page.status_code == 201 and call(app, shown).status_code == 200
    assert "alice-sheet" in alice.get("/tokens").text
    assert page.headers["Cache-Control"] == "no-store"  # the page showing the token is never cached
    assert "alice-sheet" not in bob.get("/tokens").text  # another person's tokens are not shown…
    bob.post("/tokens/revoke", data={"csrf_token": bob.token, "name": "alice-sheet"})
    assert call(app, shown).status_code == 200  # …nor revoked by them
    alice.post("/tokens/revoke", data={"csrf_token": alice.token, "name": "alice-sheet"})
    assert call(app, shown).status_code == 401
    # An import made with the token is the person's.
    upload = tokens.create(engine_of(app), "alice-upload", ["import"],
                           account_id=_account_id(app, "alice-importer")).token
    assert tokens.authenticate(engine_of(app), upload).username == "alice-importer"


def test_a_viewer_has_no_tokens_page(app):
    viewer = ImporterClient(app, "watcher", role="viewer")

    assert viewer.get("/tokens").status_code == 403


def _account_id(app, username):
    with engine_of(app).connect() as conn:
        return conn.scalar(text("SELECT account_id FROM accounts WHERE username = :u"), {"u": username})


def test_names_are_a_persons_own_and_the_command_line_revokes_by_owner(app, database_url, monkeypatch):
    engine = engine_of(app)
    alice, bob = (ImporterClient(app, name) for name in ("alice-importer", "bob-importer"))
    for person in (alice, bob):  # the same name: neither learns of the other's
        assert person.post("/tokens", data={"csrf_token": person.token, "name": "ci", "scopes": ["read"]}
                           ).status_code == 201
    mine = tokens.create(engine, "ci", ["read"]).token  # and the command line's own
    monkeypatch.setenv("DATABASE_URL", database_url)

    revoked = CliRunner().invoke(cli, ["tokens", "revoke", "ci", "--owner", "alice-importer"])

    assert revoked.exit_code == 0, revoked.output
    listed = {(t.owner, t.revoked_at is None) for t in tokens.listed(engine) if t.name == "ci"}
    assert listed == {("alice-importer", False), ("bob-importer", True), (None, True)}
    assert call(app, mine).status_code == 200


def test_a_persons_token_ends_with_a_new_password_and_imports_only_while_they_may(app):
    from csv_importer import accounts

    engine = engine_of(app)
    person = ImporterClient(app, "carol-importer")
    owner = _account_id(app, "carol-importer")
    reading = tokens.create(engine, "sheet", ["read"], account_id=owner).token
    uploading = tokens.create(engine, "upload", ["import"], account_id=owner).token

    with engine.begin() as conn:
        conn.execute(text("UPDATE accounts SET role = 'viewer' WHERE account_id = :id"), {"id": owner})
    demoted = call(app, uploading, "/api/v1/imports", "POST", data={"file": (io.BytesIO(CSV), "a.csv")})
    assert demoted.status_code == 403 and "viewer" in demoted.json["detail"]
    assert call(app, reading).status_code == 200  # reading is a viewer's right

    accounts.set_password(engine, person.username, "another-long-password")

    assert call(app, reading).status_code == 401
    assert "password changed" in call(app, reading).json["detail"]
