"""Run the RDS emulator on its own: ``python -m bot.sandbox.rds --port N --access-key-id X ...``.

Prints the endpoint (``host:port``) on the first line of stdout, then serves until
SIGTERM or SIGINT. The secret can come from ``ALIBABA_CLOUD_ACCESS_KEY_SECRET``
instead of the command line, so it need not show in a process list.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from bot.sandbox.rds.emulator import RdsEmulator
from bot.sandbox.rds.model import Timings


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox.rds", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--access-key-id", default=os.environ.get("ALIBABA_CLOUD_ACCESS_KEY_ID"))
    parser.add_argument("--access-key-secret", default=os.environ.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET"))
    defaults = Timings()
    for name in ("clone_s", "copy_s", "backup_s", "restore_s"):
        parser.add_argument(f"--{name.replace('_', '-')}", type=float, default=getattr(defaults, name))
    parser.add_argument("--verbose", action="store_true", help="log each request (never its headers)")
    args = parser.parse_args(argv)
    if not args.access_key_id or not args.access_key_secret:
        parser.error("--access-key-id and --access-key-secret (or the ALIBABA_CLOUD_* variables) are required")
    return args


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM/SIGINT; returns the exit status."""
    args = _arguments(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    timings = Timings(clone_s=args.clone_s, copy_s=args.copy_s, backup_s=args.backup_s, restore_s=args.restore_s)
    emulator = RdsEmulator(access_key_id=args.access_key_id, access_key_secret=args.access_key_secret, timings=timings)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    print(emulator.start(args.host, args.port), flush=True)
    try:
        stop.wait()
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
