"""The database: models (the schema Alembic migrates to), connections and seed data."""
