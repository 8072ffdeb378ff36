"""The playground's HTTP server: the page, its assets, a JSON API and a server-sent-event stream.

Standard library only (``ThreadingHTTPServer``): one thread per connection, so an open event
stream never holds up the API. It is meant for one person's machine: it listens on 127.0.0.1 by
default and takes JSON only (a page from another site cannot send that without a CORS preflight,
which is never answered), so a web page elsewhere cannot click for you.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

from bot.sandbox.playground import controls, gestures, reads
from bot.sandbox.playground.changes import Changes
from bot.sandbox.playground.world import ApiError, Playground, start_playground, world

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".mjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon",
                 ".json": "application/json; charset=utf-8", ".txt": "text/plain; charset=utf-8"}
ASSET_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
MAX_BODY = 1 << 20
PING_S = 15.0

Post = Callable[[Playground, Mapping[str, Any]], dict[str, Any]]
POSTS: dict[str, Post] = {
    "/api/command": gestures.command, "/api/click": gestures.click, "/api/select": gestures.select,
    "/api/suggest": gestures.suggest, "/api/submit": gestures.submit, "/api/close": gestures.close,
    "/api/home": gestures.home, "/api/fault": controls.fault, "/api/time": controls.advance,
}


class PlaygroundServer(ThreadingHTTPServer):
    """Serves one :class:`Playground`; ``url`` once bound."""

    daemon_threads = True

    def __init__(self, playground: Playground | None, host: str = "127.0.0.1", port: int = 8000) -> None:
        super().__init__((host, port), Handler)
        self.playground = playground
        self.changes: Changes | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        return f"http://{shown}:{port}/"

    def attach(self, playground: Playground) -> None:
        """Serve ``playground`` (bound first, so a busy port fails before the stack is started)."""
        self.playground = playground
        self.changes = Changes(lambda: reads.fingerprint(playground))
        self.changes.start()

    def start(self) -> PlaygroundServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, name="playground-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end the event streams, stop the stack."""
        if self.changes is not None:
            self.changes.stop()
        if self._thread is not None:
            self.shutdown()
        self.server_close()
        if self.playground is not None:
            self.playground.stop()


class Handler(BaseHTTPRequestHandler):
    """Routes one request; errors are ``{"error": ...}`` with a 4xx (or 500) status."""

    server: PlaygroundServer
    server_version = "rdsbot-playground"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        url = urlsplit(self.path)
        try:
            if url.path in ("/", "/index.html"):
                self._asset("index.html")
            elif url.path.startswith("/static/"):
                self._asset(url.path[len("/static/"):])
            elif url.path == "/api/events":
                self._events()
            elif url.path == "/api/world":
                self._json(world(self._playground()))
            elif url.path == "/api/state":
                user = parse_qs(url.query).get("user", [""])[0]
                self._json(reads.state_for(self._playground(), user, self._changes().seq))
            elif url.path == "/api/panel":
                self._json(reads.panel(self._playground()))
            else:
                raise ApiError(404, f"nothing at {url.path}")
        except ApiError as error:
            self._json({"error": error.message}, error.status)
        except Exception as error:  # noqa: BLE001 - the page gets the reason; the log the trace
            log.exception("GET %s failed", url.path)
            self._json({"error": f"{type(error).__name__}: {error}"}, 500)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        path = urlsplit(self.path).path
        try:
            handler = POSTS.get(path)
            if handler is None:
                raise ApiError(404, f"nothing to POST at {path}")
            answer = handler(self._playground(), self._body())
            self._changes().bump()
            self._json(answer)
        except ApiError as error:
            self._json({"error": error.message}, error.status)
        except Exception as error:  # noqa: BLE001 - the page gets the reason; the log the trace
            log.exception("POST %s failed", path)
            self._json({"error": f"{type(error).__name__}: {error}"}, 500)

    # --- pieces ------------------------------------------------------------------------------------
    def _playground(self) -> Playground:
        if self.server.playground is None:
            raise ApiError(503, "the sandbox is still starting")
        return self.server.playground

    def _changes(self) -> Changes:
        if self.server.changes is None:
            raise ApiError(503, "the sandbox is still starting")
        return self.server.changes

    def _body(self) -> dict[str, Any]:
        if self.headers.get_content_type() != "application/json":
            raise ApiError(415, "send JSON (Content-Type: application/json)")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ApiError(413, "request body too large")
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError as error:
            raise ApiError(400, f"the body is not JSON: {error}") from None
        if not isinstance(body, dict):
            raise ApiError(400, "the body must be a JSON object")
        return body

    def _json(self, document: Any, status: int = 200) -> None:
        data = json.dumps(document, default=str, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _asset(self, name: str) -> None:
        path = STATIC / name
        if not ASSET_NAME.match(name) or not path.is_file():
            raise ApiError(404, f"no asset {name!r}")
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPES.get(path.suffix, "application/octet-stream"))
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(data)

    def _events(self) -> None:
        """``event: change`` with ``{"seq": N}`` at once and on every change; ``: ping`` when quiet."""
        changes = self._changes()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Accel-Buffering", "no")
        self.end_headers()
        self.close_connection = True
        seq = changes.seq
        try:
            self._send_event(seq, retry=True)
            while not changes.stopped:
                current = changes.wait(seq, PING_S)
                if current > seq:
                    seq = current
                    self._send_event(seq)
                elif not changes.stopped:
                    self.wfile.write(b": ping\n\n")
                    self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return  # the page went away

    def _send_event(self, seq: int, *, retry: bool = False) -> None:
        prefix = "retry: 1000\n" if retry else ""
        self.wfile.write(f"{prefix}event: change\ndata: {json.dumps({'seq': seq})}\n\n".encode())
        self.wfile.flush()


def serve_in_background(*, host: str = "127.0.0.1", port: int = 0, job_seconds: float = 5.0,
                        workdir: Path | None = None) -> PlaygroundServer:
    """Bind, start the sandbox, serve in a thread (tests); ``stop()`` ends it all."""
    server = PlaygroundServer(None, host, port)
    try:
        server.attach(start_playground(job_seconds=job_seconds, workdir=workdir))
    except BaseException:
        server.server_close()
        raise
    return server.start()


def run(*, host: str = "127.0.0.1", port: int = 8000, job_seconds: float = 5.0, out: IO[str] | None = None) -> int:
    """``rdsbot playground``: serve until Ctrl-C; the exit code."""
    out = out or sys.stdout
    logging.basicConfig(level=logging.ERROR)
    try:
        server = PlaygroundServer(None, host, port)
    except OSError as error:
        out.write(f"rdsbot playground: cannot listen on {host}:{port}: {error.strerror or error} "
                  "(another program uses it? try --port)\n")
        return 2
    out.write("rdsbot playground: starting the RDS emulator, the Slack emulator and the bot (SQLite)...\n")
    out.flush()
    try:
        server.attach(start_playground(job_seconds=job_seconds))
    except KeyboardInterrupt:
        server.server_close()
        return 130
    except BaseException:
        server.server_close()
        raise
    if host not in ("127.0.0.1", "localhost", "::1"):
        out.write(f"rdsbot playground: listening on {host}: anyone who can reach it can act in the sandbox\n")
    out.write(f"rdsbot playground: open {server.url}  (Ctrl-C to stop)\n")
    out.flush()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)  # stopped by a service manager: clean up as for Ctrl-C
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        out.write("rdsbot playground: stopping\n")
    finally:
        server.stop()
    return 0


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt
