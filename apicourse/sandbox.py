"""The offline sandbox: in replay, a call the cassette has no recording for is answered by the stand-in.

Replay alone would stop a lesson the moment a learner changes a prompt (``MissingRecording``). With the
sandbox, :func:`apicourse.start` lets such a call through to the course's local stand-in
(:mod:`apicourse.standin`), run inside the kernel — no server, no network. It answers in the provider's
own wire format (JSON, streamed events, usage, request ids), with the provider's own errors for requests
the real API refuses, and every answer is labelled: its text starts with ``[offline stand-in]`` and the
cell shows a one-line note saying so and how to go live.

Recorded calls still replay their recordings exactly. ``APICOURSE_STRICT_REPLAY=1`` turns the sandbox
off (the tests run the committed notebooks that way, so a stale cassette cannot hide)::

    >>> strict({"APICOURSE_STRICT_REPLAY": "1"}), strict({})
    (True, False)
"""

from __future__ import annotations

import html
import os
import sys
from collections.abc import Mapping
from functools import cache
from typing import Any
from urllib.parse import urlsplit

STRICT_VAR = "APICOURSE_STRICT_REPLAY"
"""Set to 1 to keep replay strict: an unrecorded call raises ``MissingRecording``."""
SANDBOX_HEADER = "x-apicourse-sandbox"
"""Every sandbox answer carries ``x-apicourse-sandbox: 1`` (and the stand-in's ``x-apicourse-standin: 1``)."""
_DROPPED_HEADERS = {"host", "content-length", "accept-encoding", "transfer-encoding", "connection"}
_noted: set[tuple[Any, str]] = set()
_state: dict[str, str | None] = {"notebook": None}


def strict(environ: Mapping[str, str] | None = None) -> bool:
    """Whether replay is strict (no sandbox): ``APICOURSE_STRICT_REPLAY`` is 1/true/yes/on."""
    env = os.environ if environ is None else environ
    return (env.get(STRICT_VAR) or "").strip().lower() in {"1", "true", "yes", "on"}


def note_text(provider: Any) -> str:
    """The one-line note a cell shows when the sandbox answered one of its calls.

    >>> from apicourse.replay import PROVIDER_BY_NAME
    >>> note_text(PROVIDER_BY_NAME["openai"])[:60]
    'ⓘ Offline stand-in: no recording matches this OpenAI call, s'
    """
    return (
        f"ⓘ Offline stand-in: no recording matches this {provider.label} call, so the course's local "
        f"stand-in answered it — not a model. To go live, put {provider.key_var}=... in .env and restart "
        "the kernel."
    )


@cache
def _client(notebook: str | None) -> Any:
    from starlette.testclient import TestClient

    from apicourse.standin import create_app

    return TestClient(create_app(notebook, sandbox=True), base_url="http://offline-standin")


def standin_reply(method: str, url: str, headers: Mapping[str, str], body: bytes, notebook: str | None) -> Any | None:
    """The stand-in's answer to an unrecorded provider request (an ``httpx.Response`` of starlette's test
    client), or ``None`` when replay is strict or ``url`` is not one of the course's providers."""
    from apicourse.replay import provider_for_host

    parts = urlsplit(url)
    provider = provider_for_host(parts.hostname or "")
    if provider is None or strict():
        return None
    kept = {k: v for k, v in headers.items() if k.lower() not in _DROPPED_HEADERS}
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    reply = _client(notebook).request(method, f"/{parts.hostname}{path}", content=body, headers=kept)
    show_note(provider)
    return reply


def _headers(reply: Any) -> list[tuple[str, str]]:
    kept = [(k, v) for k, v in reply.headers.multi_items() if k.lower() not in ("content-encoding", "content-length")]
    return [*kept, ("content-length", str(len(reply.content))), (SANDBOX_HEADER, "1")]


def httpx_answer(request: Any, body: bytes, httpx: Any, notebook: str | None) -> Any | None:
    """:func:`standin_reply` as the ``httpx2.Response`` the SDKs read (streams paced like replayed ones)."""
    from apicourse import pacing

    reply = standin_reply(request.method, str(request.url), dict(request.headers), body, notebook)
    if reply is None:
        return None
    response = httpx.Response(reply.status_code, headers=_headers(reply), stream=httpx.ByteStream(reply.content))
    return pacing.pace(response)


def recorded_answer(vcr_request: Any, notebook: str | None) -> dict[str, Any] | None:
    """:func:`standin_reply` as a vcrpy recorded response (for ``requests`` and other ``http.client`` users)."""
    body = vcr_request.body or b""
    body = body.encode() if isinstance(body, str) else body
    reply = standin_reply(vcr_request.method, vcr_request.uri, dict(vcr_request.headers), body, notebook)
    if reply is None:
        return None
    headers: dict[str, list[str]] = {}
    for name, value in _headers(reply):
        headers.setdefault(name, []).append(value)
    return {
        "status": {"code": reply.status_code, "message": reply.reason_phrase},
        "headers": headers,
        "body": {"string": reply.content},
    }


def show_note(provider: Any) -> None:
    """Show :func:`note_text` once per cell (in a notebook) or once per provider (in a script)."""
    shell = _shell()
    key = (shell.execution_count if shell is not None else None, provider.name)
    if key in _noted:
        return
    _noted.add(key)
    text = note_text(provider)
    if shell is None:
        print(text, file=sys.stderr)
        return
    from IPython.display import display

    style = "border-left:4px solid #c80;padding:2px 8px;font-size:0.9em;background:#fff8e6"
    shown = f'<div class="apicourse-sandbox-note" style="{style}">{html.escape(text)}</div>'
    display({"text/plain": text, "text/html": shown}, raw=True)


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def install(notebook: str) -> None:
    """Route vcrpy's unrecorded requests (httpx2 and ``http.client``) to the stand-in; called by
    :func:`apicourse.start` in replay."""
    import vcr.stubs
    import vcr.stubs.httpx_stubs as stubs

    from apicourse.replay import MissingRecording

    _state["notebook"] = notebook
    _noted.clear()  # each session shows its notes afresh
    if getattr(stubs._vcr_request, "_apicourse_sandbox", False):
        return
    original = stubs._vcr_request
    original_getresponse = vcr.stubs.VCRConnection.getresponse

    def vcr_request(cassette: Any, real_request: Any, real_request_body: bytes, httpx: Any) -> Any:
        try:
            return original(cassette, real_request, real_request_body, httpx)
        except MissingRecording as missing:
            response = httpx_answer(real_request, real_request_body, httpx, _state["notebook"])
            if response is None:
                raise
            return missing.failed_request, response

    def getresponse(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original_getresponse(self, *args, **kwargs)
        except MissingRecording:
            recorded = recorded_answer(self._vcr_request, _state["notebook"])
            if recorded is None:
                raise
            return vcr.stubs.VCRHTTPResponse(recorded, self._vcr_request.uri)

    vcr_request._apicourse_sandbox = True  # type: ignore[attr-defined]
    stubs._vcr_request = vcr_request
    vcr.stubs.VCRConnection.getresponse = getresponse  # type: ignore[method-assign]
