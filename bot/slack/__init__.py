"""Everything that talks Slack: Bolt listeners, modal and message builders, delivery."""
