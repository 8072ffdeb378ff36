"""Local emulators of the RDS OpenAPI and the Slack Web API, and the offline sandbox."""
