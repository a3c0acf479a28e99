"""`payments users add|list|disable|set-password`: the web app's accounts."""

from __future__ import annotations

import sys

import click

from csv_importer import accounts
from payments_core.db.connect import make_engine
from payments_core.settings import DatabaseSettings, load

__all__ = ["users"]


def _engine():
    return make_engine(load(DatabaseSettings).database_url)


def _password(from_stdin: bool) -> str:
    """Prompted for twice, hidden; or the first line of standard input (for scripts)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _run(action) -> None:
    engine = _engine()
    try:
        action(engine)
    except accounts.AccountProblem as e:
        raise click.ClickException(str(e)) from None
    finally:
        engine.dispose()


@click.group("users")
def users() -> None:
    """The web app's accounts: a viewer sees the dashboard, an importer also uploads files."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(accounts.ROLES), default="viewer", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def add(username: str, role: str, password_stdin: bool) -> None:
    """Create an account (the password is asked for, at least 12 characters)."""
    password = _password(password_stdin)
    _run(lambda engine: accounts.add(engine, username, password, role))
    click.echo(f"account {username!r} created, role {role}")


@users.command("list")
def listing() -> None:
    """Every account, with its role and whether it is disabled."""
    def show(engine):
        for username, role, disabled, created_at in accounts.listing(engine):
            click.echo(f"{username}\t{role}\t{'disabled' if disabled else 'active'}\tsince {created_at:%Y-%m-%d}")
    _run(show)


@users.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Stop an account from signing in; its open sessions end at their next request."""
    _run(lambda engine: accounts.disable(engine, username))
    click.echo(f"account {username!r} disabled")


@users.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_password(username: str, password_stdin: bool) -> None:
    """Give an account a new password; its open sessions end."""
    password = _password(password_stdin)
    _run(lambda engine: accounts.set_password(engine, username, password))
    click.echo(f"password of {username!r} changed; its sessions have ended")
