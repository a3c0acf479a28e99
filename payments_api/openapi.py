"""The OpenAPI 3.1 document, generated from the endpoints' declarations (endpoints.py) and their pydantic models:
the models that read a request's parameters and write its answer are the schemas the document shows."""

from __future__ import annotations

import copy

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .endpoints import ENDPOINTS
from .models import ProblemDetails
from .problems import MEDIA_TYPE, TITLES

__all__ = ["document"]

REF = "#/components/schemas/{model}"


def _parameter_schema(schema: dict) -> dict:
    """A field's schema as a query parameter's: never null (a parameter is given or not)."""
    schema = copy.deepcopy(schema)
    choices = [s for s in schema.pop("anyOf", []) if s.get("type") != "null"]
    if len(choices) == 1:
        schema.update(choices[0])
    elif choices:
        schema["anyOf"] = choices
    if schema.get("default", 0) is None:
        del schema["default"]
    schema.pop("title", None)
    return schema


def _query_parameters(model: type[BaseModel]) -> list[dict]:
    schema = model.model_json_schema(by_alias=True, ref_template=REF)
    required = set(schema.get("required", []))
    found = []
    for name, field in schema["properties"].items():
        field = _parameter_schema(field)
        description = field.pop("description", None)
        parameter = {"name": name, "in": "query", "required": name in required, "schema": field}
        if description:
            parameter["description"] = description
        found.append(parameter)
    return found


def _problem(status: int) -> dict:
    return {"description": TITLES.get(status, "Error"),
            "content": {MEDIA_TYPE: {"schema": {"$ref": REF.format(model="ProblemDetails")}}}}


def document() -> dict:
    models = {e.response for e in ENDPOINTS} | {ProblemDetails}
    _, definitions = models_json_schema([(m, "serialization") for m in sorted(models, key=lambda m: m.__name__)],
                                        by_alias=True, ref_template=REF)
    paths: dict[str, dict] = {}
    for e in ENDPOINTS:
        parameters = [{"name": name, "in": "path", "required": True, "schema": schema}
                      for name, schema in e.path_parameters.items()]
        if e.query is not None:
            parameters += _query_parameters(e.query)
        success = {"description": e.summary,
                   "content": {"application/json": {"schema": {"$ref": REF.format(model=e.response.__name__)}}}}
        if e.status == 202:
            success["headers"] = {"Location": {"description": "the import's address",
                                               "schema": {"type": "string"}}}
        if "next" in e.response.model_fields:
            success["headers"] = {"Link": {"description": "the next page, as `next` says: <…>; rel=\"next\"",
                                           "schema": {"type": "string"}}}
        responses = {str(e.status): success}
        for status in sorted({400, 401, 403, 429, *e.errors}):
            responses[str(status)] = _problem(status)
        responses["429"]["headers"] = {"Retry-After": {"description": "seconds to wait",
                                                       "schema": {"type": "integer"}}}
        operation = {"operationId": e.name, "summary": e.summary, "description": e.description,
                     "security": [{"token": [e.scope]}], "parameters": parameters, "responses": responses}
        if e.body is not None:
            operation["requestBody"] = e.body
        paths.setdefault("/api" + e.path, {})[e.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Payments platform API", "version": "1",
                 "description": "Payments, reports and imports of the payments event platform. Send a token as "
                                "`Authorization: Bearer <token>` (`payments tokens create NAME --scope read`). "
                                "Errors are `application/problem+json` (RFC 9457), naming the parameter at fault."},
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer",
                                          "description": "scopes: read (every GET), import (POST /imports)"}},
        },
    }
