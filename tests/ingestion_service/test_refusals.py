"""Refusals are made in one place: refusals.py words them, the other steps only find what is wrong."""

import ast
from pathlib import Path

import ingestion_service

PACKAGE = Path(ingestion_service.__file__).parent


def constructions(path: Path) -> set[str]:
    """The refusal records a module builds itself: calls of Refusal(...) or Reason(...), by name or attribute."""
    called = (getattr(node.func, "id", None) or getattr(node.func, "attr", None)
              for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call))
    return {name for name in called if name in ("Refusal", "Reason")}


def test_only_refusals_py_builds_a_refusal_or_its_reasons():
    builders = {path.name for path in PACKAGE.glob("*.py") if constructions(path)}
    assert builders == {"refusals.py"}
