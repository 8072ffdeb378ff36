"""``rdsbot playground``: the sandbox in a browser, rendered as Slack would show it.

The server (:mod:`.server`) starts the same world as ``rdsbot sandbox`` (both emulators, the bot on
SQLite) and serves a page (``static/``: plain ES modules, no build step, nothing from the internet)
with a JSON API and an event stream. Reads come from the Slack emulator (what Slack would show), the
RDS emulator and the bot's database (read-only); every gesture goes through the Slack driver, signed
like Slack's own requests (:mod:`.gestures`); the panel's knobs make RDS slow or throttled and move
time (:mod:`.controls`).

    server = serve_in_background(port=0, job_seconds=2.0)   # tests
    print(server.url); ...; server.stop()
"""

from bot.sandbox.playground.server import PlaygroundServer, run, serve_in_background
from bot.sandbox.playground.world import Playground, start_playground

__all__ = ["Playground", "PlaygroundServer", "run", "serve_in_background", "start_playground"]
