"""`payments tokens create|list|revoke`: the API's tokens (payments_api)."""

from __future__ import annotations

import click

from payments_api import tokens as api_tokens
from payments_core.db.connect import make_engine
from payments_core.db.models import API_SCOPES
from payments_core.settings import DatabaseSettings, load

__all__ = ["tokens"]


def _run(action):
    engine = make_engine(load(DatabaseSettings).database_url)
    try:
        return action(engine)
    except api_tokens.TokenProblem as e:
        raise click.ClickException(str(e)) from None
    finally:
        engine.dispose()


@click.group("tokens")
def tokens() -> None:
    """Tokens of the API (/api/v1): `read` reads payments, reports and imports; `import` uploads CSV files."""


@tokens.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(API_SCOPES),
              help="What the token may do; give it twice for both.")
@click.option("--expires-in", "days", type=click.IntRange(1, api_tokens.MAX_DAYS), default=None,
              help="Days until it expires (default: never).")
def create(name: str, scopes: tuple[str, ...], days: int | None) -> None:
    """Make a token NAME and print it, alone on standard output: it is shown this once and kept only hashed."""
    made = _run(lambda engine: api_tokens.create(engine, name, scopes, days))
    expiry = f"expires {made.expires_at:%Y-%m-%d %H:%M %Z}" if made.expires_at else "never expires"
    click.echo(f"token {made.name!r} ({', '.join(made.scopes)}; {expiry}); keep it now, it is not shown again:",
               err=True)
    click.echo(made.token)


@tokens.command("list")
def list_tokens() -> None:
    """The tokens, newest first: name, scopes, owner, state and last use (never the token)."""
    rows = _run(api_tokens.listed)
    if not rows:
        click.echo("no tokens; `payments tokens create NAME --scope read` makes one")
    for row in rows:
        state = ("revoked" if row.revoked_at else
                 f"expires {row.expires_at:%Y-%m-%d}" if row.expires_at else "open")
        used = f"last used {row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never used"
        click.echo(f"{row.name}\t{','.join(row.scopes)}\t{row.owner or '-'}\t{state}\t{used}")


@tokens.command("revoke")
@click.argument("name")
@click.option("--owner", help="The account that made it on the web page (default: a token of the command line).")
def revoke(name: str, owner: str | None) -> None:
    """Revoke the open token NAME: a request with it is refused from now on."""

    def revoke_it(engine) -> bool:
        account_id = None
        if owner is not None:
            account_id = api_tokens.account_id(engine, owner)
            if account_id is None:
                raise api_tokens.TokenProblem(f"there is no account {owner!r}")
        return api_tokens.revoke(engine, name, account_id)

    if not _run(revoke_it):
        whose = f"of {owner!r}" if owner else "of the command line (--owner names a person's)"
        raise click.ClickException(f"there is no open token {whose} named {name!r}; `payments tokens list` "
                                   "shows them")
    click.echo(f"revoked {name!r}")
