"""`payments users …` and the first account that `make up` and compose's setup make."""

from click.testing import CliRunner
from sqlalchemy import select

from csv_importer import accounts
from payments_core.db.models import Account
from platform_ops.cli import cli
from platform_ops.setup import ensure_admin


def run(database_url, *args, given=""):
    return CliRunner().invoke(cli, ["users", *args], input=given, env={"DATABASE_URL": database_url},
                              catch_exceptions=False)


def test_accounts_are_added_listed_disabled_and_given_new_passwords(database_url, engine):
    added = run(database_url, "add", "carla", "--role", "importer", "--password-stdin", given="a-long-password-1\n")
    listed = run(database_url, "list")
    renewed = run(database_url, "set-password", "carla", "--password-stdin", given="a-long-password-2\n")

    assert added.exit_code == 0 and "created, role importer" in added.output
    assert "carla\timporter\tactive" in listed.output
    assert renewed.exit_code == 0
    assert accounts.authenticate(engine, "carla", "a-long-password-1") is None
    assert accounts.authenticate(engine, "carla", "a-long-password-2").role == "importer"
    assert run(database_url, "disable", "carla").exit_code == 0
    assert accounts.authenticate(engine, "carla", "a-long-password-2") is None
    assert "carla\timporter\tdisabled" in run(database_url, "list").output


def test_a_short_password_or_a_taken_name_is_refused_with_why(database_url):
    short = run(database_url, "add", "dan", "--password-stdin", given="short\n")
    run(database_url, "add", "erin", "--password-stdin", given="a-long-password-1\n")
    taken = run(database_url, "add", "erin", "--password-stdin", given="a-long-password-1\n")

    bidi = run(database_url, "add", "adm\u202enimda", "--password-stdin", given="a-long-password-1\n")

    assert short.exit_code == 1 and "at least 12 characters" in short.output
    assert bidi.exit_code == 1 and "bidi character" in bidi.output
    assert taken.exit_code == 1 and "already an account 'erin'" in taken.output


def test_the_first_account_is_made_once_and_never_changed(database_url, engine):
    first = ensure_admin(database_url, "admin", "payments-local-admin")
    again = ensure_admin(database_url, "admin", "another-password-now")

    assert "created" in first and "left as it is" in again
    assert accounts.authenticate(engine, "admin", "payments-local-admin").role == "importer"
    with engine.connect() as conn:
        assert conn.scalar(select(Account.username)) == "admin"
    assert "not set" in ensure_admin(database_url, None, None)
