"""The gateway to the RDS API: the SDK client, the error catalogue, retries, typed reads.

Owns: every import of the Alibaba Cloud SDK (nothing else in ``bot`` may import it).
Must never import: ``bot.workflow``, ``bot.slack``, ``bot.store``, ``bot.policy``.
"""
