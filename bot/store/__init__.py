"""Persistence: SQLModel tables, the hash-chained audit log, Alembic migrations.

Must never import: ``bot.workflow``, ``bot.slack``, ``bot.rds``, ``bot.policy``.
"""
