"""The CSV importer: a Flask web app that archives an uploaded CSV file, marks duplicated and suspicious rows,
publishes the rows to Kafka, and follows what the ingestion service made of them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask, abort, jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from payments_api.problems import from_http_error
from payments_core import s3
from payments_core.contract import bad_character
from payments_core.db.connect import make_engine
from payments_core.kafka import producer_config
from payments_core.settings import load

from . import csrf, metrics
from .archive import Archive
from .importing import Importer
from .settings import ImporterSettings
from .views import auth

__all__ = ["create_app"]

API_PREFIX = "/api/"


def create_app(settings: ImporterSettings | None = None) -> Flask:
    """The importer app for `settings` (from the environment when None). Connects to nothing until used."""
    settings = settings or load(ImporterSettings)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.importer_secret_key.get_secret_value(),
        MAX_CONTENT_LENGTH=settings.importer_max_upload_mb * 1024 * 1024,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=settings.importer_secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.importer_session_minutes),
        SPOOL_DIR=Path(settings.importer_spool_dir),
    )
    if settings.secret_key_is_weak():  # allowed on this machine only (the settings refuse it elsewhere)
        app.logger.warning("IMPORTER_SECRET_KEY is the example's or short: fine while the app listens on %s only, "
                           "never on a shared address", settings.importer_host)
    if settings.importer_trusted_proxies:
        # The client's address is the one the trusted proxies saw, from X-Forwarded-For; with none, the peer's.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.importer_trusted_proxies)
    init_app(app, settings)
    metrics.init_app(app, app.extensions["importer"].metrics)
    auth.init_app(app)  # before the CSRF check: a request without a session is sent to sign in first
    csrf.init_app(app)
    app.after_request(_protective_headers)

    import payments_api
    from dashboards import web as dashboard

    from .views.imports import bp as imports_bp
    from .views.tokens import bp as tokens_bp
    from .views.upload import bp as upload_bp

    app.register_blueprint(upload_bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(tokens_bp)
    # Half the serving threads at most hold a live alert's stream; the other half always serve pages.
    dashboard.init_app(app, app.extensions["importer"].engine, settings.dashboard_cache_seconds,
                       alert_streams=settings.importer_threads // 2)
    payments_api.init_app(app, app.extensions["importer"].engine, settings.api_requests_per_minute)

    @app.before_request
    def refuse_bad_characters():
        # A NUL in an address or filter would reach PostgreSQL and fail there (a 500): no page has a use for
        # control characters, so every route refuses them here, saying which one.
        given = [("address", request.path)]
        for name, value in request.args.items(multi=True):
            given += [("name of a filter", name), ("filter " + name, value)]
        for where, value in given:
            if found := bad_character(value):
                abort(400, description=f"The {where} holds the character {found}, which no page uses. "
                                       "Remove it and try again.")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if request.path.startswith(API_PREFIX):  # no page there: an unknown address or a refused character
            return from_http_error(error)
        message = error.description
        if error.code == 413:
            message = too_large_message(settings)
        # Keep what the error says in its headers: `Allow` on a 405.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        if auth.wants_json():
            return jsonify(error=message), error.code, headers
        return render_template("error.html", message=message, code=error.code), error.code, headers

    return app


def too_large_message(settings: ImporterSettings) -> str:
    return (f"The file is larger than {settings.importer_max_upload_mb} MB, the most the importer takes. "
            "Split it into smaller files.")


# Every asset is the app's own: no inline script or style, no other site, no frame around the pages.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def _protective_headers(response):
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"  # for browsers that predate frame-ancestors
    response.headers["Referrer-Policy"] = "same-origin"
    return response


# The database's time limits for a request: to connect, and for any one statement (a held lock, an overloaded
# server). The longest statement of a 200 MB import (its flagged rows' COPY) takes a few seconds. A server gone
# from the network is found by TCP keepalives within 25 s (10 s idle, then 3 probes 5 s apart).
DATABASE_CONNECT_SECONDS = 5
DATABASE_STATEMENT_SECONDS = 120
DATABASE_CONNECTION = {"connect_timeout": DATABASE_CONNECT_SECONDS,
                       # A transaction left waiting (a fault of ours: no call to another server is made inside one)
                       # is ended after a minute, its locks with it.
                       "options": f"-c statement_timeout={DATABASE_STATEMENT_SECONDS * 1000} "
                                  "-c idle_in_transaction_session_timeout=60000",
                       "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}


def init_app(app: Flask, settings: ImporterSettings) -> None:
    """The clients the app uses, made once and reached through the app (never at import)."""
    # Of the serving threads, a quarter at most wait for S3 and half hold a live alert's stream (create_app): the
    # rest always serve sign-in, health and pages, however slow S3 is.
    s3_slots = max(1, settings.importer_threads // 4)
    app.extensions["importer"] = Importer(
        settings=settings,
        archive=Archive(s3.client(settings, connections=s3_slots), settings.s3_bucket, slots=s3_slots),
        # A connection per serving thread, plus two for the rare request that holds a second one (an import's
        # advisory lock beside its queries).
        engine=make_engine(settings.database_url, pool_size=settings.importer_threads, max_overflow=2,
                           connect_args=DATABASE_CONNECTION),
        # At most 16 MB waiting for the broker: a huge file is sent with back-pressure, not held whole (64 MB put
        # a 20 MB file over its memory bound, with no gain in speed).
        producer_config=producer_config(settings, **{"linger.ms": 20, "batch.num.messages": 10_000,
                                                     "queue.buffering.max.messages": 2_000_000,
                                                     "queue.buffering.max.kbytes": 16384}),
    )
