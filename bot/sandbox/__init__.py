"""Local emulators of the RDS OpenAPI and the Slack Web API, and the offline sandbox.

Owns: everything a test or a demo needs to run the bot without a cloud or a
workspace. The bot never imports it (only ``bot.cli``'s ``sandbox`` command, lazily).
"""
