"""``python -m bot.sandbox.slack``: serve the emulated Slack Web API (face 1) on its own.

Credentials come from ``--bot-token``/``--signing-secret`` or, better (they do
not show up in the process list), from ``SLACK_BOT_TOKEN``/``SLACK_SIGNING_SECRET``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

import waitress

from .emulator import SlackEmulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox.slack", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3001, help="0 picks a free port")
    parser.add_argument("--bot-token", default=os.environ.get("SLACK_BOT_TOKEN"))
    parser.add_argument("--signing-secret", default=os.environ.get("SLACK_SIGNING_SECRET"))
    parser.add_argument("--trigger-ttl", type=float, default=3.0, help="seconds a trigger_id stays valid")
    parser.add_argument("--threads", type=int, default=8)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run until interrupted."""
    args = _parser().parse_args(argv)
    if not args.bot_token or not args.signing_secret:
        print("a bot token and a signing secret are required (flags or SLACK_* variables)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    emulator = SlackEmulator(
        bot_token=args.bot_token, signing_secret=args.signing_secret, trigger_ttl_s=args.trigger_ttl
    )
    server = waitress.create_server(emulator.wsgi_app, host=args.host, port=args.port, threads=args.threads)
    emulator.bind(args.host, int(server.effective_port))
    print(f"Slack emulator Web API at {emulator.api_url}", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
