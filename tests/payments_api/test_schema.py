"""The API against its own OpenAPI document (Schemathesis): every endpoint and parameter, valid and invalid values,
with a valid token and without one, on the app as production serves it. No answer is a 500, and every answer is
one the document describes: its status, its content type, its headers and its body's schema."""

from __future__ import annotations

import threading

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection]


@pytest.fixture
def served_api(importer_settings, known):
    """The app served by waitress over a real socket, with the dashboards' known data and a token of both
    scopes."""
    from csv_importer import create_app, serving
    from payments_api import tokens

    app = create_app(importer_settings.model_copy(update={"api_requests_per_minute": 1_000_000}))
    token = tokens.create(app.extensions["importer"].engine, "schemathesis", ["read", "import"]).token
    server = serving.server(app, "127.0.0.1", 0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    yield f"http://127.0.0.1:{server.effective_port}", token
    server.close()


def operations(base: str) -> list:
    schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def _exercise(served_api, mode, with_token: bool, examples: int) -> list[str]:
    """Every operation with `examples` generated requests of `mode`; returns the operations exercised."""
    base, token = served_api
    headers = {"Authorization": f"Bearer {token}"} if with_token else {}
    done = []
    for operation in operations(base):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case):
            case.call_and_validate(base_url=base, headers=headers, checks=CHECKS)

        call()
        done.append(operation.label)
    return done


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_with_a_token_every_answer_is_one_the_document_describes(served_api, mode):
    done = _exercise(served_api, mode, with_token=True, examples=25)

    assert len(done) == 11, done


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
def test_without_a_token_every_answer_is_one_the_document_describes(served_api, mode):
    _exercise(served_api, mode, with_token=False, examples=8)
