"""Signing in and out, and the guard in front of every other page: who is signed in, for how long, and in which
role."""

from __future__ import annotations

import math
import time
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, g, jsonify, redirect, render_template, request, session, url_for

from .. import accounts, sessions
from ..throttle import Throttle

__all__ = ["bp", "init_app", "wants_json"]

bp = Blueprint("auth", __name__)

# Open without signing in: the health check, the metrics, the login page itself, and the static assets.
OPEN_ENDPOINTS = {"upload.health", "upload.metrics", "auth.login", "static", "dashboard.static"}
# The API (payments_api) takes tokens, never the session: its requests pass this guard and the CSRF check to its own.
API_BLUEPRINT = "api"
# What a viewer may see: the dashboard, and signing out. Everything else needs the importer role.
VIEWER_BLUEPRINTS = {"dashboard", "auth"}


def _importer():
    return current_app.extensions["importer"]


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this app only, never another site."""
    parts = urlsplit(target or "")
    if (not target or parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//")
            or "\\" in target or not target.isprintable()):  # a browser reads /\\site as //site
        return url_for("upload.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("auth/login.html", next=_safe_next(request.args.get("next")))
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    address = request.remote_addr or "unknown"
    throttle: Throttle = current_app.extensions["sign_in_throttle"]
    wait = throttle.attempt(username, address)  # counted as a failure until it succeeds
    if wait > 0:
        return render_template("auth/login.html", next=_safe_next(request.form.get("next")), username=username,
                               error=f"Too many failed sign-ins. Try again in {_duration(wait)}."), 429
    account = accounts.authenticate(_importer().engine, username, password) if username and password else None
    if account is None:
        # Never the password; a name cut short, whatever was sent.
        current_app.logger.warning("failed sign-in for %r from %s", username[:150], address)
        return render_template("auth/login.html", next=_safe_next(request.form.get("next")), username=username,
                               error="That username and password do not match an active account."), 401
    token = sessions.begin(_importer().engine, account)
    if token is None:  # the password changed, or the account was disabled, while this sign-in was checked
        return render_template("auth/login.html", next=_safe_next(request.form.get("next")), username=username,
                               error="That username and password do not match an active account."), 401
    throttle.succeeded(username, address)
    session.clear()  # a new session: nothing of the one before the sign-in carries over
    session.permanent = True
    session.update(token=token, signed_in_at=time.time())
    return redirect(_safe_next(request.form.get("next")), code=303)


def _duration(seconds: float) -> str:
    if seconds <= 1:
        return "1 second"
    return f"{math.ceil(seconds)} seconds" if seconds < 60 else f"{math.ceil(seconds / 60)} minutes"


@bp.post("/logout")
def logout():
    """End this session on the server too: a copy of the cookie opens nothing afterwards."""
    if "token" in session:
        sessions.end(_importer().engine, session["token"])
    session.clear()
    return redirect(url_for("auth.login"), code=303)


@bp.post("/logout/everywhere")
def logout_everywhere():
    """End every session of the signed-in account, on every device."""
    accounts.sign_out_everywhere(_importer().engine, g.account.account_id)
    session.clear()
    return redirect(url_for("auth.login"), code=303)


def wants_json() -> bool:
    """Whether the request comes from a script (it asks for JSON, or says who sent it) rather than a page."""
    return request.headers.get("X-Requested-With") is not None or request.accept_mimetypes.best == "application/json"


def _signed_out(message: str | None = None):
    """Send the request to sign in. An ended session is cleared; no session is left as it is, so that a request
    the browser makes on its own (a favicon) does not take the login form's CSRF token away."""
    if "token" in session:
        session.clear()
    if wants_json():
        return jsonify(error=message or "Sign in first."), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")), code=303)


def _guard():
    """Before every request: a signed-in, active account whose session is young enough, in the right role."""
    if (request.endpoint in OPEN_ENDPOINTS or request.routing_exception is not None
            or request.blueprint == API_BLUEPRINT):
        return None  # a 404 or a 405 (with Allow) shows nothing of the data
    token, signed_in_at = session.get("token"), session.get("signed_in_at")
    if not isinstance(token, str) or not isinstance(signed_in_at, int | float):
        return _signed_out()
    settings = _importer().settings
    if time.time() - signed_in_at > settings.importer_session_minutes * 60:
        return _signed_out("Your session has ended. Sign in again.")
    # Ended by sign-out (here or everywhere), a new password or a disabled account: the server's word, not the
    # cookie's.
    account = sessions.current(_importer().engine, token, settings.importer_session_minutes)
    if account is None:
        return _signed_out("Your session has ended. Sign in again.")
    g.account = account
    blueprint = (request.endpoint or "").split(".", 1)[0]
    if account.role != "importer" and blueprint not in VIEWER_BLUEPRINTS:
        if request.endpoint == "upload.index":
            return redirect(url_for("dashboard.overview"), code=303)
        abort(403, description="Your account may see the dashboard only; uploads and imports need the importer "
                               "role.")
    return None


def init_app(app: Flask) -> None:
    app.extensions["sign_in_throttle"] = Throttle()
    app.register_blueprint(bp)
    app.before_request(_guard)
    app.jinja_env.globals["current_account"] = lambda: g.get("account")
