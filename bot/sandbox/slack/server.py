"""A small threaded HTTP server for the emulator's WSGI app, startable on port 0 and stoppable.

The standard library's WSGI server handles one request at a time and resolves
its own host name on start (slow on hosts without DNS); this one serves each
request on its own thread and skips the lookup.
"""

from __future__ import annotations

import logging
import socketserver
import threading
from collections.abc import Callable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

log = logging.getLogger(__name__)


class _QuietHandler(WSGIRequestHandler):
    """Logs requests at debug level instead of printing them to stderr."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Only the path: a query string may carry a token, and a response_url path is one.
        path = self.path.split("?", 1)[0]
        if path.startswith("/response/"):
            path = "/response/<redacted>"
        log.debug("slack emulator http: %s %s -> %s", self.command, path, code)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("slack emulator http: " + format, *args)

    def address_string(self) -> str:
        return str(self.client_address[0])


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 makes bursts of concurrent calls wait a second for a SYN retry.
    request_queue_size = 128

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()


class ThreadedWsgiServer:
    """Serves a WSGI app on a background thread until ``stop()``."""

    def __init__(self, app: Callable[..., Any], host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _ThreadingWSGIServer((host, port), _QuietHandler)
        self._server.set_app(app)
        # A short poll interval keeps stop() (and so every test teardown) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="slack-emulator",
            daemon=True,
        )

    @property
    def port(self) -> int:
        """The bound port (the real one when 0 was asked)."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Start serving in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
