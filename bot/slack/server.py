"""HTTP mode: one WSGI app for Slack's requests, health and metrics, served by waitress.

Waitress is a threaded production server, so a slow request never holds up
another; it binds exactly RDSBOT_HOST:RDSBOT_PORT.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App, BoltRequest
from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier

from bot import metrics
from bot.slack.bolt_app import malformed
from bot.workflow.background import Foreground

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Slack payloads are far smaller; anything bigger is not Slack
EVENTS_PATH = "/slack/events"


class WebApp:
    """Routes ``POST /slack/events`` to Bolt, ``GET /healthz`` and ``GET /metrics``.

    The signature is checked on the raw bytes before anything is parsed, so an
    unsigned caller gets a 401 and costs no JSON parsing at all.
    """

    def __init__(self, bolt: App | None, *, ready: Callable[[], bool], signing_secret: str | None = None,
                 metrics: bool = True, foreground: Foreground | None = None) -> None:
        if bolt is not None and not signing_secret:
            # Serving Slack's endpoint without checking signatures would let anyone act as anyone.
            raise ValueError("POST /slack/events needs the signing secret")
        self.bolt = bolt  # None: Slack is not served here (Socket Mode, or a metrics-only address)
        self.ready = ready
        self.metrics = metrics
        self.verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self.foreground = foreground or Foreground()  # a Slack request being answered: follow-ups wait

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "/")
        if path == "/healthz" and method in {"GET", "HEAD"}:
            ok = self.ready()
            return _respond(start_response, 200 if ok else 503, json.dumps({"ok": ok}), "application/json")
        if path == "/metrics" and method == "GET" and self.metrics:
            return _respond(start_response, 200, metrics.render(), "text/plain; version=0.0.4")
        if path == EVENTS_PATH and self.bolt is not None:
            if method != "POST":
                return _respond(start_response, 405, "method not allowed")
            with self.foreground.busy():
                return self._slack(environ, start_response)
        return _respond(start_response, 404, "not found")

    def _slack(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        assert self.bolt is not None and self.verifier is not None
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _respond(start_response, 400, "bad content length")
        if length > MAX_BODY:
            metrics.SLACK_REQUESTS.labels("too_large").inc()
            return _respond(start_response, 413, "payload too large")
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _respond(start_response, 400, "body is not UTF-8")
        headers: dict[str, list[str]] = {}
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                headers[key[5:].replace("_", "-").lower()] = [value]
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = [environ["CONTENT_TYPE"]]
        query = environ.get("QUERY_STRING", "")
        # Slack's own SSL check is unsigned; Bolt answers it without running anything.
        ssl_check = "json" not in (environ.get("CONTENT_TYPE") or "") and "ssl_check=1" in body.split("&")
        if not ssl_check and not self._signed(body, headers):
            metrics.SLACK_REQUESTS.labels("unsigned").inc()
            return _respond(start_response, 401, "invalid request signature")
        try:
            request = _bolt_request(body, query, headers)
            # Bolt routes on the envelope it parsed: a malformed one is refused before it gets the chance.
            content_type = (environ.get("CONTENT_TYPE") or "").split(";")[0] or None
            refusal = None if ssl_check else malformed(request.body if request else parse_body(body, content_type))
            if refusal is not None:
                return _respond(start_response, 400, refusal)
            if request is None:
                return _respond(start_response, 400, "could not process the request")
            response = self.bolt.dispatch(request)
        except Exception:  # noqa: BLE001 - malformed input must be a 4xx, never a crash
            log.exception("could not process a Slack request")
            return _respond(start_response, 400, "could not process the request")
        if response.status == 401:
            metrics.SLACK_REQUESTS.labels("unsigned").inc()
        status = response.status
        if status >= 500:
            # Bolt answers 500 for payloads it cannot parse; that is the sender's fault.
            status = 400
        out_headers = [(k, v) for k, values in response.headers.items() for v in values if k.lower() != "content-length"]
        payload = (response.body or "").encode("utf-8")
        start_response(_status_line(status), out_headers + [("Content-Length", str(len(payload)))])
        return [payload]


    def _signed(self, body: str, headers: dict[str, list[str]]) -> bool:
        assert self.verifier is not None
        timestamp = (headers.get("x-slack-request-timestamp") or [""])[0]
        signature = (headers.get("x-slack-signature") or [""])[0]
        if not re.fullmatch(r"\d{1,12}", timestamp) or not signature:
            return False
        return bool(self.verifier.is_valid(body=body, timestamp=timestamp, signature=signature))


def _bolt_request(body: str, query: str, headers: dict[str, list[str]]) -> BoltRequest | None:
    """The request as Bolt reads it (its body parsed once, here), or None when Bolt cannot read its envelope."""
    try:
        return BoltRequest(body=body, query=query, headers=headers)
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        log.info("Slack request Bolt cannot read", extra={"error": type(error).__name__})
        return None


def _status_line(status: int) -> str:
    reasons = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
               413: "Payload Too Large", 503: "Service Unavailable"}
    return f"{status} {reasons.get(status, 'Status')}"


def _respond(start_response: Callable[..., Any], status: int, body: str | bytes, content_type: str = "text/plain") -> list[bytes]:
    payload = body.encode("utf-8") if isinstance(body, str) else body
    start_response(_status_line(status), [("Content-Type", content_type), ("Content-Length", str(len(payload)))])
    return [payload]


def make_server(app: WebApp, host: str, port: int, *, threads: int = 16) -> Any:
    """A waitress server bound to host:port (port 0 picks a free one)."""
    from waitress.server import create_server

    # max_request_body_size: waitress refuses a bigger body (413) from its headers, before buffering
    # any of it; its default would spool up to 1 GiB to disk before the app's own check ran.
    return create_server(app, host=host, port=port, threads=threads, ident="rdsbot", clear_untrusted_proxy_headers=True,
                         max_request_body_size=MAX_BODY)
