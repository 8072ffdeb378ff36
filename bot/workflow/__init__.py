"""The request life cycle: states, approvals, orchestration and the Slack outbox."""
