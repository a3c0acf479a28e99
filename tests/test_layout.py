"""The packages' import graph: the core at the bottom, the services on it, the operator's tooling on top."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("ingestion_service", "data_generator", "csv_importer", "dashboards", "payments_api")
# The web app registers the dashboards' and the API's blueprints; the API's POST /imports runs the web app's
# import (the same rules, archive and accounting as the page): the only imports from one service into another.
ALLOWED = {"csv_importer": {"dashboards", "payments_api"}, "payments_api": {"csv_importer"}}


def imported_packages(package: str) -> dict[str, set[str]]:
    """For each module of `package`, the top-level packages it imports (relative imports are its own)."""
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


def test_the_core_imports_no_service_and_no_tooling():
    for module, names in imported_packages("payments_core").items():
        assert not names & {*SERVICES, "platform_ops"}, f"{module} imports {names & {*SERVICES, 'platform_ops'}}"
        assert "import_module" not in (ROOT / module).read_text(), f"{module} loads modules by name"


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_imports_the_core_and_never_the_tooling(service):
    allowed_services = ALLOWED.get(service, set())
    for module, names in imported_packages(service).items():
        assert "platform_ops" not in names, f"{module} imports the tooling"
        others = names & set(SERVICES) - {service} - allowed_services
        assert not others, f"{module} imports {others}"


def test_the_tooling_reaches_every_service_by_ordinary_imports():
    names = set().union(*imported_packages("platform_ops").values())

    assert set(SERVICES) <= names
    for module in (ROOT / "platform_ops").rglob("*.py"):
        assert "import_module" not in module.read_text() and "find_spec" not in module.read_text(), module


def test_every_error_of_the_platform_has_the_one_root():
    import importlib
    import inspect

    from payments_core.errors import PlatformError

    for package in ("payments_core", *SERVICES, "platform_ops"):
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            module = importlib.import_module(name)
            for cls_name, cls in inspect.getmembers(module, inspect.isclass):
                if cls.__module__ == name and issubclass(cls, Exception) and not cls_name.startswith("_"):
                    assert issubclass(cls, PlatformError), f"{name}.{cls_name} is outside PlatformError"


def test_no_test_module_imports_another():
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if "helpers" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("tests."):
                assert node.module.startswith("tests.helpers."), f"{path.relative_to(ROOT)} imports {node.module}"
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                pytest.fail(f"{path.relative_to(ROOT)} imports a sibling module: shared code goes to tests/helpers")
