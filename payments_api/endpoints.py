"""The API's endpoints are declared once, here: `endpoint(...)` registers a view on the blueprint and records what
the OpenAPI document says of it (openapi.py). Every request passes the same door, in this order: a token, its
scope, its rate, then the parameters, read by the endpoint's pydantic model. A view returns a dict that the
response model checks and writes; an error is a Problem."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Blueprint, Response, current_app, g, request
from pydantic import BaseModel, ValidationError

from . import tokens
from .problems import Problem

__all__ = ["ENDPOINTS", "Endpoint", "bp", "endpoint", "read_query"]

bp = Blueprint("api", __name__, url_prefix="/api", template_folder="templates", static_folder="static",
               static_url_path="/static")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # as OpenAPI writes it: /v1/payments/{transaction_id}
    name: str
    summary: str
    description: str
    scope: str
    response: type[BaseModel]
    query: type[BaseModel] | None = None
    status: int = 200
    path_parameters: dict[str, dict] = field(default_factory=dict)  # name -> JSON Schema
    body: dict | None = None  # the request body's OpenAPI object
    errors: tuple[int, ...] = ()  # answers other than 400, 401, 403 and 429


ENDPOINTS: list[Endpoint] = []


def _caller(scope: str) -> tokens.Caller:
    header = request.headers.get("Authorization", "")
    kind, _, presented = header.partition(" ")
    if kind.lower() != "bearer" or not presented.strip():
        raise Problem(401, "Send a token as `Authorization: Bearer <token>`; `payments tokens create` makes one.")
    api = current_app.extensions["api"]
    caller = tokens.authenticate(api.engine, presented.strip())
    if isinstance(caller, str):
        raise Problem(401, caller)
    if scope not in caller.scopes:
        raise Problem(403, f"The token {caller.name!r} may {' and '.join(sorted(caller.scopes))}; this needs the "
                           f"scope {scope!r}.")
    if scope == "import" and caller.role not in (None, "importer"):
        raise Problem(403, f"The token {caller.name!r} belongs to {caller.username!r}, whose account may no longer "
                           "import files (it has the viewer role).")
    wait = api.rate_limit.take(caller.token_id)
    if wait > 0:
        raise Problem.too_many(wait)
    return caller


def read_query(model: type[BaseModel]):
    """The query string, read by `model`: a value given twice, an unknown parameter or a wrong value is a 400
    naming the parameter."""
    given = {}
    for name in request.args:
        values = request.args.getlist(name)
        if len(values) > 1:
            raise Problem.bad_parameter(name, "is given more than once")
        given[name] = values[0]
    try:
        return model.model_validate(given)
    except ValidationError as e:
        errors = []
        for item in e.errors(include_url=False):
            where = str(item["loc"][0]) if item["loc"] else ""
            message = item["msg"].removeprefix("Value error, ")
            if not where and ":" in message:  # a rule across parameters names the one at fault first
                where, _, message = message.partition(": ")
            if item["type"] == "extra_forbidden":
                message = "is not a parameter of this endpoint"
            errors.append({"parameter": where, "detail": message})
        raise Problem(400, "; ".join(f"{x['parameter']}: {x['detail']}" for x in errors), errors) from None


def endpoint(method: str, path: str, *, scope: str, response: type[BaseModel], query: type[BaseModel] | None = None,
             status: int = 200, path_parameters: dict[str, dict] | None = None, body: dict | None = None,
             errors: tuple[int, ...] = (), slashes: tuple[str, ...] = ()) -> Callable:
    """Register `view` for `method` and `path`. A path parameter named in `slashes` may hold a `/` (sent as
    %2F), as a username may."""
    def register(view: Callable) -> Callable:
        summary, _, description = (view.__doc__ or "").strip().partition("\n")
        ENDPOINTS.append(Endpoint(method, path, view.__name__, summary.strip(), description.strip(), scope,
                                  response, query, status, path_parameters or {}, body, errors))

        @functools.wraps(view)
        def run(**path_values):
            g.api_caller = _caller(scope)
            args = (read_query(query),) if query is not None else ()
            answer = view(g.api_caller, *args, **path_values)
            if isinstance(answer, Response):
                return answer
            body_text = response.model_validate(answer).model_dump_json(by_alias=True)
            reply = Response(body_text, status=status, mimetype="application/json")
            if answer.get("next"):
                reply.headers["Link"] = f'<{answer["next"]}>; rel="next"'
            return reply

        rule = path
        for name in slashes:
            rule = rule.replace("{" + name + "}", "<path:" + name + ">")
        bp.add_url_rule(rule.replace("{", "<").replace("}", ">"), view.__name__, run, methods=[method])
        return view

    return register
