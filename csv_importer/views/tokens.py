"""A person's own API tokens: made (shown once), listed and revoked. Needs the importer role, like the imports."""

from __future__ import annotations

from flask import Blueprint, current_app, g, render_template, request

from payments_api import tokens
from payments_core.db.models import API_SCOPES

bp = Blueprint("tokens", __name__, url_prefix="/tokens")


@bp.after_request
def _never_cached(response):
    # The page that shows a new token must not be kept in the browser's cache, nor any of this page.
    response.headers["Cache-Control"] = "no-store"
    return response


def _engine():
    return current_app.extensions["importer"].engine


def _page(made: tokens.NewToken | None = None, error: str | None = None, code: int = 200):
    mine = tokens.listed(_engine(), g.account.account_id, everyone=False)
    return render_template("tokens/index.html", tokens=mine, made=made, error=error, scopes=API_SCOPES,
                           days=tokens.MAX_DAYS), code


@bp.get("")
def index():
    return _page()


@bp.post("")
def create():
    days = request.form.get("expires_in", "").strip()
    if days and not days.isdigit():
        return _page(error="Expires in: give a number of days, or leave it empty for never.", code=400)
    try:
        made = tokens.create(_engine(), request.form.get("name", ""), request.form.getlist("scopes"),
                             int(days) if days else None, account_id=g.account.account_id)
    except tokens.TokenProblem as e:
        return _page(error=str(e), code=400)
    current_app.logger.info("API token %r made by %s", made.name, g.account.username)  # never the token
    return _page(made=made, code=201)


@bp.post("/revoke")
def revoke():
    name = request.form.get("name", "")
    if not tokens.revoke(_engine(), name, g.account.account_id):
        return _page(error=f"You have no open token named {name!r}.", code=404)
    return _page()
