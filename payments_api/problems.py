"""Errors of the API as `application/problem+json` (RFC 9457): a status, a title, a sentence for a person, and for a
bad parameter, which one and what is wrong with it."""

from __future__ import annotations

import json
import math

from flask import Response, request
from werkzeug.exceptions import HTTPException

from payments_core.errors import PlatformError

__all__ = ["MEDIA_TYPE", "Problem", "from_http_error", "response"]

MEDIA_TYPE = "application/problem+json"

TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
          409: "Conflict", 413: "Content too large", 415: "Unsupported media type", 422: "Unprocessable content",
          429: "Too many requests", 500: "Internal error", 503: "Service unavailable"}


class Problem(PlatformError):
    """An answer other than success. `errors` names the parameters at fault: [{"parameter": …, "detail": …}]."""

    def __init__(self, status: int, detail: str, errors: list[dict] | None = None, headers: dict | None = None,
                 **extra):
        super().__init__(detail)
        self.status, self.detail, self.errors, self.headers, self.extra = status, detail, errors, headers or {}, extra

    @classmethod
    def bad_parameter(cls, parameter: str, detail: str) -> Problem:
        return cls(400, f"{parameter}: {detail}", [{"parameter": parameter, "detail": detail}])

    @classmethod
    def too_many(cls, wait_s: float) -> Problem:
        seconds = max(1, math.ceil(wait_s))
        return cls(429, f"This token made more requests than its rate allows. Try again in {seconds} s.",
                   headers={"Retry-After": str(seconds)})


def response(problem: Problem) -> Response:
    body = {"type": "about:blank", "title": TITLES.get(problem.status, "Error"), "status": problem.status,
            "detail": problem.detail, "instance": request.path}
    if problem.errors:
        body["errors"] = problem.errors
    body.update(problem.extra)
    answer = Response(json.dumps(body, ensure_ascii=False), status=problem.status, mimetype=MEDIA_TYPE)
    answer.headers.update(problem.headers)
    if problem.status == 401:
        answer.headers["WWW-Authenticate"] = 'Bearer realm="payments"'
    return answer


def from_http_error(error: HTTPException) -> Response:
    """A routing or framework error (404, 405, 413, a 400 of the app's own checks) in the API's form."""
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    return response(Problem(error.code or 500, error.description or TITLES.get(error.code, "Error"), headers=headers))
