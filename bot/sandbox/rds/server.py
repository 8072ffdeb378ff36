"""The HTTP server: a thin ``ThreadingHTTPServer`` in front of :class:`Dispatcher`.

HTTP/1.1 with keep-alive, because the SDK pools connections. Request logging goes
to the ``logging`` module at debug level and never includes headers, so the
Authorization header (and any security token) cannot end up in a log.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from bot.sandbox.rds.dispatch import Dispatcher

logger = logging.getLogger(__name__)


class RdsHttpServer(ThreadingHTTPServer):
    """Serves one dispatcher; handler threads are daemons so a stuck client never blocks exit."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], dispatcher: Dispatcher) -> None:
        super().__init__(address, _Handler)
        self.dispatcher = dispatcher
        # Set on stop, so injected delays end early instead of holding threads.
        self.stopping = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, the second waits for the
    # client's delayed ACK and every call costs ~40 ms.
    disable_nagle_algorithm = True
    server: RdsHttpServer

    def do_POST(self) -> None:  # http.server's naming
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        url = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        answer = self.server.dispatcher.handle(self.command, url.path or "/", url.query, headers, body)
        if answer.delay_s > 0:
            self.server.stopping.wait(answer.delay_s)
        payload = json.dumps(answer.body, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (typically its read timeout during an injected delay).
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # http.server's signature
        logger.debug("%s - " + format, self.address_string(), *args)
