"""Persistence: SQLModel tables, the hash-chained audit log, Alembic migrations."""
