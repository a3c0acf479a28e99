"""CSRF protection: a random token in the signed session cookie, sent back by every form and upload."""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, request, session

__all__ = ["init_app", "token"]

FIELD, HEADER = "csrf_token", "X-CSRF-Token"


def token() -> str:
    if FIELD not in session:
        session[FIELD] = secrets.token_urlsafe(32)
    return session[FIELD]


def _check() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS") or request.routing_exception is not None:
        return  # nothing to protect: no such page (404), or not with this method (405, with Allow)
    if request.blueprint == "api":
        return  # a token in a header, which a browser never adds on its own, is what the API takes
    sent = request.headers.get(HEADER) or request.form.get(FIELD, "")
    # Compared as bytes: compare_digest refuses a str with a character outside ASCII (a TypeError, a 500).
    expected = session.get(FIELD, "").encode()
    if not sent or not hmac.compare_digest(sent.encode("utf-8", "surrogatepass"), expected):
        abort(400, description="This page has expired. Reload it and try again.")


def init_app(app: Flask) -> None:
    app.before_request(_check)
    app.jinja_env.globals["csrf_token"] = token
