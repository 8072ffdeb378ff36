"""The request life cycle, in small modules over one dependencies object (:mod:`.deps`).

- :mod:`.intake` — a new request: validate, ask the policy, record it.
- :mod:`.decisions` — votes, cancel, expiry.
- :mod:`.gate` — the one decision that a request is sent to RDS now.
- :mod:`.execution` — sending it, exactly once, and what RDS answered.
- :mod:`.progress` — watching running jobs. :mod:`.recovery` — after a crash.
- :mod:`.reads`, :mod:`.queries` — reads for users (policy-checked) and for the bot.
- :mod:`.access` — who may do what; the one ARN function.
- :mod:`.notices`, :mod:`.outbox` — typed Slack notices and their transactional delivery.
- :mod:`.reminders`, :mod:`.schedules`, :mod:`.audit_seal` — reminders and the audit seal.

Plain Python: must never import ``bot.slack``, Bolt or the Alibaba Cloud SDK.
"""
