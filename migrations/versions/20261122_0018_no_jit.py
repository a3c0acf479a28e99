"""No just-in-time compilation of queries in this database.

PostgreSQL compiles a query to machine code when its estimated cost is high, which a question reading several
ranges of the totals reaches. The compilation then costs more than the query: at 10 million payments, the top
senders over a range cutting months took 76 ms, of which 37 ms compiling (36 ms without). The dashboards' queries
read small totals; a large ad-hoc query can still turn it on for its session (`SET jit = on`).

A setting of the database, so that every connection has it: the services', Metabase's read-only role's, psql's.
It applies to connections opened after the migration.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# ALTER DATABASE takes the database's name, not an expression: current_database() quoted as an identifier. Only
# the database's owner may: a migration run by another role says so and goes on (the dashboards are then slower).
_SET = """
DO $$ BEGIN
    EXECUTE format('ALTER DATABASE %I {}', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'jit is left as it is: only the owner of the database can change it';
END $$
"""


def upgrade() -> None:
    op.execute(_SET.format("SET jit = off"))


def downgrade() -> None:
    op.execute(_SET.format("RESET jit"))
