"""The gateway to the RDS API: the SDK client, the error catalogue, retries, typed reads."""
