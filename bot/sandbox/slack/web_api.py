"""The Web API face as a WSGI application: ``POST /api/<method>`` and ``POST /response/<token>``.

Order of work for each call: read the arguments, apply the next matching
fault, check the token, run the method, journal the outcome. Nothing here
writes the token or the request headers anywhere.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import api_chat, api_directory, api_views, response_url
from .errors import SlackError
from .faults import Fault, FaultPlan
from .journal import Journal
from .params import Params, parsed_for_journal, read_body, read_request
from .state import SlackState

log = logging.getLogger(__name__)

Handler = Callable[[SlackState, Params], dict[str, Any]]
StartResponse = Callable[..., Any]

HANDLERS: dict[str, Handler] = {**api_directory.HANDLERS, **api_chat.HANDLERS, **api_views.HANDLERS}

# The pseudo method name under which response_url posts are journaled and faulted.
RESPONSE_URL_METHOD = "response_url"

_STATUS_TEXT = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class _Answer:
    """An HTTP answer under construction."""

    def __init__(self, status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


class WebApi:
    """WSGI app serving the emulated Web API and response URLs for one ``SlackState``."""

    def __init__(self, state: SlackState, *, bot_token: str, journal: Journal, faults: FaultPlan) -> None:
        self._state = state
        self._bot_token = bot_token
        self._journal = journal
        self._faults = faults

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path.startswith("/api/") and len(path) > len("/api/"):
            answer = self._api_call(path[len("/api/") :], environ)
        elif path.startswith("/response/") and len(path) > len("/response/"):
            answer = self._response_url(path[len("/response/") :], environ)
        elif path in ("/", "/healthz"):
            answer = _Answer(200, {"ok": True, "emulator": "slack"})
        else:
            answer = _Answer(404, {"ok": False, "error": "not_found"})
        body = json.dumps(answer.body).encode()
        headers = [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("X-Slack-Req-Id", f"emu-{time.monotonic_ns():x}"),
            *answer.headers.items(),
        ]
        start_response(f"{answer.status} {_STATUS_TEXT.get(answer.status, 'Error')}", headers)
        return [body]

    # --- /api/<method> -------------------------------------------------------------------
    def _api_call(self, method: str, environ: dict[str, Any]) -> _Answer:
        at = time.time()
        params: dict[str, Any] = {}
        fault = self._faults.take(method)
        try:
            args, token = read_request(environ)
            params = parsed_for_journal(args)
            answer = self._with_fault(fault, lambda: self._run(method, args, token))
        except SlackError as refused:
            answer = _Answer(refused.status, refused.body())
        self._journal.record(
            method,
            params,
            status=answer.status,
            response=answer.body,
            at=at,
            fault=fault.describe() if fault else None,
        )
        log.debug("slack emulator: %s -> %s %s", method, answer.status, answer.body.get("error", "ok"))
        return answer

    def _run(self, method: str, args: dict[str, Any], token: str | None) -> _Answer:
        if token is None:
            raise SlackError("not_authed")
        # Constant-time comparison, as for any credential check.
        if not hmac.compare_digest(token.encode(), self._bot_token.encode()):
            raise SlackError("invalid_auth")
        handler = HANDLERS.get(method)
        if handler is None:
            raise SlackError("unknown_method", req_method=method)
        return _Answer(200, handler(self._state, Params(args)))

    # --- /response/<token> -----------------------------------------------------------------
    def _response_url(self, token: str, environ: dict[str, Any]) -> _Answer:
        at = time.time()
        payload: Any = None
        fault = self._faults.take(RESPONSE_URL_METHOD)
        try:
            payload = _read_json(environ)
            answer = self._with_fault(
                fault, lambda: _Answer(200, response_url.deliver(self._state, token, payload))
            )
        except SlackError as refused:
            answer = _Answer(refused.status, refused.body())
        params = payload if isinstance(payload, dict) else {"raw": payload}
        self._journal.record(
            RESPONSE_URL_METHOD,
            params,
            status=answer.status,
            response=answer.body,
            at=at,
            fault=fault.describe() if fault else None,
        )
        return answer

    # --- faults --------------------------------------------------------------------------
    @staticmethod
    def _with_fault(fault: Fault | None, run: Callable[[], _Answer]) -> _Answer:
        """Run the call under ``fault``: delayed, refused, or done with its answer replaced."""
        if fault is None:
            return run()
        if fault.delay_s:
            time.sleep(fault.delay_s)
        if not fault.fails:
            return run()
        if fault.side_effect:
            # If the work fails on its own, the client still sees the injected fault.
            with contextlib.suppress(SlackError):
                run()
        status, headers, body = fault.response()
        return _Answer(status, body, headers)


def _read_json(environ: Mapping[str, Any]) -> Any:
    try:
        return json.loads(read_body(environ) or b"null")
    except ValueError:
        raise SlackError("invalid_payload", status=400) from None
