"""The HTTP server: a thin ``ThreadingHTTPServer`` in front of a dispatcher (the RDS or the STS one).

HTTP/1.1 with keep-alive, because the SDK pools connections. Request logging goes
to the ``logging`` module at debug level and never includes headers, so the
Authorization header (and any security token) cannot end up in a log.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)


class Handles(Protocol):
    """What the server serves: one answer per request (:class:`Dispatcher`, the STS emulator's)."""

    def handle(self, method: str, path: str, query: str, headers: Any, body: bytes) -> Any: ...


class RdsHttpServer(ThreadingHTTPServer):
    """Serves one dispatcher; handler threads are daemons so a stuck client never blocks exit."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], dispatcher: Handles) -> None:
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


class Served:
    """Start/stop of an emulator served by :class:`RdsHttpServer` from a background thread.

    Subclasses set ``_dispatcher`` and ``_thread_name`` and call ``Served.__init__``.
    """

    _dispatcher: Handles
    _thread_name = "emulator"  # also names it in errors

    def __init__(self) -> None:
        self._server: RdsHttpServer | None = None
        self._thread: threading.Thread | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving in a background thread; returns the endpoint ``host:port``."""
        if self._server is not None:
            return self.endpoint
        self._server = RdsHttpServer((host, port), self._dispatcher)
        # A short poll interval keeps stop() quick (shutdown waits for one poll).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=self._thread_name, daemon=True
        )
        self._thread.start()
        return self.endpoint

    @property
    def endpoint(self) -> str:
        """``host:port`` of the running server (the SDK's ``Config.endpoint``)."""
        if self._server is None:
            raise RuntimeError(f"the {self._thread_name} is not started")
        host = self._server.server_address[0]
        host = host.decode() if isinstance(host, bytes) else host
        return f"{host}:{self._server.server_port}"

    def stop(self) -> None:
        """Stop serving and close the socket; idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        server.stopping.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Any:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
