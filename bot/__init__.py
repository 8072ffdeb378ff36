"""rdsbot: run ApsaraDB RDS operations from Slack behind a RAM-style policy and approvals."""

__version__ = "0.1.0"
