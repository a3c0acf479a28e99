"""Refusals are made in one place (refusals.py), and the look-ups that decide some of them fail as the database's
fault, never the batch's, when PostgreSQL does not answer."""

import ast
from pathlib import Path

import pytest

import ingestion_service
from ingestion_service.lookups import Lookups
from payments_core.errors import DatabaseUnavailable
from platform_ops.servers import free_port
from tests.helpers.events import ALICE

PACKAGE = Path(ingestion_service.__file__).parent


def constructions(path: Path) -> set[str]:
    """The refusal records a module builds itself: calls of Refusal(...) or Reason(...)."""
    return {node.func.id for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("Refusal", "Reason")}


def test_only_refusals_py_builds_a_refusal_or_its_reasons():
    builders = {path.name for path in PACKAGE.glob("*.py") if constructions(path)}
    assert builders == {"refusals.py"}


def test_a_look_up_while_postgresql_does_not_answer_is_the_databases_fault(database_url):
    down = Lookups(f"postgresql://postgres@127.0.0.1:{free_port()}/payments")
    with pytest.raises(DatabaseUnavailable, match="unreachable"):
        down.fetch_missing(user_ids={str(ALICE.user_id)})

    up = Lookups(database_url)
    try:
        up.fetch_missing(user_ids={str(ALICE.user_id)}, currency_alphas={"EUR"})
        assert str(ALICE.user_id) in up.user_ids and up.user_by_name[ALICE.username] == str(ALICE.user_id)
        assert up.currency_by_alpha["EUR"] == 978
    finally:
        up.close()
