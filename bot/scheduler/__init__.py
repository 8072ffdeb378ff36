"""Periodic jobs (progress polling, approval expiry, recovery, reminders, outbox sweeps) and leadership.

Owns: APScheduler and the leader lock. Jobs are the workflow's own functions,
handed in by the composition root. Must never import: ``bot.slack``.
"""
