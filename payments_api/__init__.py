"""The read and import API, `/api/v1`: other systems' door to the payments, reports and imports, with tokens
(`payments tokens`), errors as RFC 9457 problems, an OpenAPI 3.1 document generated from its pydantic models, and
its documentation page at `/api/docs` (Swagger UI, served from the `swagger-ui-py` package: no CDN)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import swagger_ui
from flask import Flask, current_app, jsonify, render_template, send_from_directory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from . import problems, views  # noqa: F401  (views registers the endpoints)
from .endpoints import bp
from .limits import RateLimit
from .openapi import document

__all__ = ["Api", "init_app"]

SWAGGER_UI = Path(swagger_ui.__file__).parent / "static"
SWAGGER_FILES = {"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"}


@dataclass
class Api:
    engine: Engine
    rate_limit: RateLimit
    document: dict


def init_app(app: Flask, engine: Engine, requests_per_minute: int) -> None:
    app.extensions["api"] = Api(engine, RateLimit(requests_per_minute), document())
    app.register_blueprint(bp)


@bp.get("/v1/openapi.json")
def openapi():
    return jsonify(current_app.extensions["api"].document)


@bp.get("/docs")
def docs():
    return render_template("api/docs.html")


@bp.get("/docs/assets/<name>")
def docs_asset(name: str):
    if name not in SWAGGER_FILES:
        raise problems.Problem(404, f"There is no asset {name!r}.")
    return send_from_directory(SWAGGER_UI, name, max_age=3600)


@bp.errorhandler(problems.Problem)
def _problem(problem: problems.Problem):
    return problems.response(problem)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return problems.from_http_error(error)


@bp.errorhandler(SQLAlchemyError)
def _database(error: SQLAlchemyError):
    current_app.logger.warning("API request failed on the database: %r", error)
    return problems.response(problems.Problem(503, "The database did not answer in time. Try again in a moment.",
                                              headers={"Retry-After": "5"}))
