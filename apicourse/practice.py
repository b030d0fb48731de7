"""The practice API: a real HTTP server on 127.0.0.1 for the REST, JSON, auth and rate-limit lessons.

One call starts it in a background thread on a free loopback port; it stops when you call
``.stop()``, leave a ``with`` block, or the kernel ends::

    >>> from apicourse import practice
    >>> api = practice.start(quiet=True)
    >>> import requests
    >>> r = requests.get(f"{api.url}/v1/models", headers=api.headers, timeout=5)
    >>> r.status_code, r.json()["object"]
    (200, 'list')
    >>> requests.get(f"{api.url}/v1/models", timeout=5).status_code   # no key
    401
    >>> api.stop()

It is built on FastAPI + uvicorn and publishes its own description at ``/openapi.json``.
Its resources follow the course text's examples (OpenAI-shaped):

====================================  =========================================  ==================
request                               what it does                               scope (OAuth)
====================================  =========================================  ==================
``GET /v1/status``                    is the API up? (no key needed)             –
``GET /v1/models``, ``/v1/models/ID`` list models, get one                       ``models:read``
``POST /v1/files`` (multipart)        upload a file → 201                        ``files:write``
``GET /v1/files``, ``/v1/files/ID``   list files, get one                        ``files:read``
``DELETE /v1/files/ID``               delete a file → 200 ``{"deleted": true}``  ``files:write``
``POST /v1/fine_tuning/jobs``         create a job → 201                         ``fine_tuning:write``
``GET /v1/fine_tuning/jobs[/ID]``     list jobs, get one                         ``fine_tuning:read``
``PATCH /v1/fine_tuning/jobs/ID``     change some fields (metadata, suffix)      ``fine_tuning:write``
``PUT /v1/fine_tuning/jobs/ID``       replace the job's settings entirely        ``fine_tuning:write``
``POST /v1/fine_tuning/jobs/ID/cancel`` cancel (twice → 409)                     ``fine_tuning:write``
``DELETE /v1/fine_tuning/jobs/ID``    delete → 204 No Content                    ``fine_tuning:write``
``POST /v1/chat/completions``         a deterministic echo, with ``usage``       ``chat:write``
``POST /oauth/token``                 OAuth 2.0 client credentials → a token     –
====================================  =========================================  ==================

Auth: ``Authorization: Bearer <key>`` with an API key (every scope) or an OAuth access token
(only its scopes; it expires after ``token_lifetime`` seconds). Errors look like OpenAI's:
``{"error": {"message": ..., "type": ..., "param": ..., "code": ...}}`` (the token endpoint uses
the OAuth standard's own shape, ``{"error": "invalid_client", "error_description": ...}``).

Rate limits are per key (per OAuth client for tokens): ``rpm`` requests and ``tpm`` tokens per
window of ``window_seconds`` (60 s, a minute, by default; lessons shrink it so a limit resets in a
second or two). Every authenticated answer carries ``x-ratelimit-*`` headers like OpenAI's; a
refusal is a 429 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import binascii
import html
import json
import math
import os
import re
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

from fastapi import Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from apicourse.paths import env_file  # the course's .env (``$APICOURSE_ENV_FILE`` overrides it)

HOST = "127.0.0.1"
"""The only interface the practice API ever listens on."""

KEY_VAR = "PRACTICE_API_KEY"
"""The environment variable (and ``.env`` entry) that holds the learner's practice key."""

MODELS: tuple[str, ...] = ("gpt-4o", "gpt-4o-mini", "practice-echo")
"""The practice API's models. Named like the course text's examples so its code runs unchanged —
but every one of them only echoes your last message back."""

SCOPES: dict[str, str] = {
    "models:read": "list models",
    "files:read": "list and fetch files",
    "files:write": "upload and delete files",
    "fine_tuning:read": "list and fetch fine-tuning jobs",
    "fine_tuning:write": "create, change, cancel and delete fine-tuning jobs",
    "chat:write": "create chat completions",
}
"""Every OAuth scope the practice API knows, with what it allows. An API key has all of them."""
READ_SCOPES: tuple[str, ...] = tuple(s for s in SCOPES if s.endswith(":read"))
"""The scopes that never change anything."""

FILE_PURPOSES = ("fine-tune", "assistants", "batch", "user_data")


def new_key() -> str:
    """A fresh random practice key (not a real provider's key; it only opens the practice API).

    >>> key = new_key()
    >>> key.startswith("practice-"), len(key)
    (True, 33)
    """
    return "practice-" + secrets.token_hex(12)


def saved_key(path: str | os.PathLike[str] | None = None) -> str | None:
    """The practice key from the environment or, failing that, from the ``.env`` file (not loaded).

    >>> import os, tempfile
    >>> os.environ.pop("PRACTICE_API_KEY", None) and None
    >>> env = os.path.join(tempfile.mkdtemp(), ".env")
    >>> saved_key(env) is None
    True
    >>> _ = open(env, "w").write("PRACTICE_API_KEY=practice-abc\\n")
    >>> saved_key(env)
    'practice-abc'
    """
    value = os.environ.get(KEY_VAR, "").strip()
    if value:
        return value
    from dotenv import dotenv_values

    target = Path(path) if path is not None else env_file()
    if target.is_file():
        value = (dotenv_values(target).get(KEY_VAR) or "").strip()
    return value or None


def save_key(key: str, path: str | os.PathLike[str] | None = None, *, overwrite: bool = False) -> Path:
    """Write ``PRACTICE_API_KEY=key`` into a ``.env`` file with python-dotenv's ``set_key``.

    Leaves a key that is already there alone unless ``overwrite=True`` (rotation). Returns the file.

    >>> import tempfile, os
    >>> env = os.path.join(tempfile.mkdtemp(), ".env")
    >>> save_key("practice-one", env).name
    '.env'
    >>> _ = save_key("practice-two", env)          # kept: already there
    >>> open(env).read().strip()
    "PRACTICE_API_KEY='practice-one'"
    """
    from dotenv import dotenv_values, set_key

    target = Path(path) if path is not None else env_file()
    if not overwrite and target.is_file() and dotenv_values(target).get(KEY_VAR):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    target.touch(exist_ok=True)
    set_key(str(target), KEY_VAR, key)
    return target


def mask(secret: str, shown: int = 4) -> str:
    """Show only the ends of a secret: enough to tell keys apart, never enough to use one.

    >>> mask("practice-0123456789abcdef01234567")
    'prac…4567'
    >>> mask("short")
    '…'
    """
    if len(secret) < 3 * shown:
        return "…"
    return f"{secret[:shown]}…{secret[-shown:]}"


# --------------------------------------------------------------------------- configuration


@dataclass
class PracticeConfig:
    """The knobs of one practice server; change them while it runs with :meth:`PracticeAPI.configure`.

    >>> PracticeConfig(rpm=3, window_seconds=2).rpm
    3
    """

    rpm: int = 60
    """Requests allowed per key per window (0 refuses every request)."""
    tpm: int = 10_000
    """Tokens (``usage.total_tokens`` of chat completions) allowed per key per window."""
    window_seconds: float = 60.0
    """How long the practice API's "minute" lasts. Shrink it so limits reset within seconds."""
    token_lifetime: float = 3600.0
    """Seconds an OAuth access token stays valid."""
    max_body_bytes: int = 1_000_000
    """Largest request body accepted; bigger ones get 413."""


# --------------------------------------------------------------------------- rate limiting


def format_duration(seconds: float) -> str:
    """Write a wait the way OpenAI's ``x-ratelimit-reset-*`` headers do.

    >>> format_duration(0.25), format_duration(1.5), format_duration(360), format_duration(0)
    ('250ms', '1.5s', '6m0s', '0s')
    """
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{max(1, round(seconds * 1000))}ms"
    if seconds < 60:
        return f"{round(seconds, 3):g}s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{round(rest, 3):g}s"


@dataclass(frozen=True)
class RateDecision:
    """What the limiter decided about one request, and the numbers behind the headers."""

    allowed: bool
    reason: str  # "" when allowed, else "requests" or "tokens"
    limit_requests: int
    remaining_requests: int
    reset_requests: float
    limit_tokens: int
    remaining_tokens: int
    reset_tokens: float
    retry_after: float  # seconds until the refused request could succeed (0 when allowed)
    requested_tokens: int = 0

    def headers(self) -> dict[str, str]:
        """The ``x-ratelimit-*`` (and, when refused, ``retry-after``) headers.

        >>> d = RateLimiter(PracticeConfig(rpm=1, window_seconds=10)).admit("k", now=0.0)
        >>> d.headers()["x-ratelimit-remaining-requests"]
        '0'
        """
        out = {
            "x-ratelimit-limit-requests": str(self.limit_requests),
            "x-ratelimit-remaining-requests": str(self.remaining_requests),
            "x-ratelimit-reset-requests": format_duration(self.reset_requests),
            "x-ratelimit-limit-tokens": str(self.limit_tokens),
            "x-ratelimit-remaining-tokens": str(self.remaining_tokens),
            "x-ratelimit-reset-tokens": format_duration(self.reset_tokens),
        }
        if not self.allowed:
            out["retry-after"] = str(max(1, math.ceil(self.retry_after)))
            out["retry-after-ms"] = str(max(1, math.ceil(self.retry_after * 1000)))
        return out


class RateLimiter:
    """Sliding-window limits per key: at most ``rpm`` requests and ``tpm`` tokens in any window.

    Refused requests don't count. Time is passed in, so it can be tested without waiting:

    >>> limiter = RateLimiter(PracticeConfig(rpm=2, tpm=100, window_seconds=10))
    >>> [limiter.admit("key", now=t).allowed for t in (0.0, 1.0, 2.0)]
    [True, True, False]
    >>> limiter.admit("key", now=2.0).retry_after     # the request at t=0 leaves the window at t=10
    8.0
    >>> limiter.admit("key", now=10.0).allowed
    True
    """

    def __init__(self, config: PracticeConfig) -> None:
        self.config = config
        self._seen: dict[str, deque[tuple[float, int]]] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Forget every key's recent requests."""
        with self._lock:
            self._seen.clear()

    def admit(self, identity: str, tokens: int = 0, now: float | None = None) -> RateDecision:
        """Count one request costing ``tokens`` tokens, if the limits allow it."""
        now = time.monotonic() if now is None else now
        cfg = self.config
        window = float(cfg.window_seconds)
        with self._lock:
            seen = self._seen.setdefault(identity, deque())
            while seen and seen[0][0] <= now - window:
                seen.popleft()
            used_tokens = sum(t for _, t in seen)
            reason = ""
            retry_after = 0.0
            if len(seen) + 1 > cfg.rpm:
                reason = "requests"
                retry_after = window if cfg.rpm <= 0 or not seen else seen[-cfg.rpm][0] + window - now
            elif used_tokens + tokens > cfg.tpm:
                reason = "tokens"
                if tokens > cfg.tpm:
                    retry_after = window
                else:
                    # wait until enough old tokens have left the window
                    need, freed = used_tokens + tokens - cfg.tpm, 0
                    for at, cost in seen:
                        freed += cost
                        if freed >= need:
                            retry_after = at + window - now
                            break
            allowed = not reason
            if allowed:
                seen.append((now, tokens))
                used_tokens += tokens
            reset_requests = (seen[0][0] + window - now) if seen else 0.0
            token_times = [at for at, cost in seen if cost]
            reset_tokens = (token_times[0] + window - now) if token_times else 0.0
            return RateDecision(
                allowed=allowed,
                reason=reason,
                limit_requests=cfg.rpm,
                remaining_requests=max(0, cfg.rpm - len(seen)),
                reset_requests=max(0.0, reset_requests),
                limit_tokens=cfg.tpm,
                remaining_tokens=max(0, cfg.tpm - used_tokens),
                reset_tokens=max(0.0, reset_tokens),
                retry_after=max(0.0, retry_after),
                requested_tokens=tokens,
            )


# --------------------------------------------------------------------------- the echo "model"

_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    """A rough stand-in for a tokenizer: words and punctuation marks.

    >>> count_tokens("Explain APIs in one sentence.")
    6
    """
    return len(_TOKEN.findall(text))


def echo_answer(messages: list[dict[str, Any]], max_tokens: int | None = None) -> tuple[str, str]:
    """The practice model's answer (content, finish_reason): it repeats your last message.

    >>> echo_answer([{"role": "user", "content": "Hello!"}])
    ('You said: "Hello!" (the practice API echoes; a real model would answer)', 'stop')
    >>> echo_answer([{"role": "user", "content": "Hello!"}], max_tokens=3)
    ('You said:', 'length')
    """
    last = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
    content = f'You said: "{last}" (the practice API echoes; a real model would answer)'
    if max_tokens is not None:
        spans = list(_TOKEN.finditer(content))
        if len(spans) > max_tokens:
            return content[: spans[max_tokens - 1].end()], "length"
    return content, "stop"


# --------------------------------------------------------------------------- errors


class APIError(Exception):
    """An error answer in OpenAI's shape."""

    def __init__(
        self,
        status: int,
        message: str,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type, param, code
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        """The JSON answer for this error."""
        return error_response(self.status, self.message, self.type, self.param, self.code, self.headers)


def error_response(
    status: int,
    message: str,
    type: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """``{"error": {"message", "type", "param", "code"}}`` with a status code."""
    body = {"error": {"message": message, "type": type, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


_STATUS_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "bad_request"),
    401: ("authentication_error", "invalid_api_key"),
    403: ("permission_error", "insufficient_scope"),
    404: ("invalid_request_error", "not_found"),
    405: ("invalid_request_error", "method_not_allowed"),
    409: ("invalid_request_error", "conflict"),
    413: ("invalid_request_error", "request_too_large"),
    415: ("invalid_request_error", "unsupported_media_type"),
    422: ("invalid_request_error", "invalid_value"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
}


# --------------------------------------------------------------------------- state


@dataclass
class Token:
    """An OAuth access token the server issued."""

    client_id: str
    scopes: frozenset[str]
    expires_at: float  # time.time()


@dataclass
class Client:
    """An OAuth client allowed to use the client-credentials grant."""

    client_id: str
    client_secret: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class Seen:
    """One request as the server saw it (``api.seen``)."""

    at: float  # time.monotonic()
    method: str
    path: str
    status: int
    who: str | None  # the masked key or "oauth:<client>" (None when unauthenticated)


@dataclass
class _Caller:
    identity: str  # who the rate limits count against
    scopes: frozenset[str]
    label: str


class _State:
    """Everything one server remembers. Touched from the server thread and the notebook's."""

    def __init__(self, config: PracticeConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.keys: set[str] = set()
        self.revoked: set[str] = set()
        self.clients: dict[str, Client] = {}
        self.tokens: dict[str, Token] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.file_bytes: dict[str, bytes] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.counters: dict[str, int] = {}
        self.limiter = RateLimiter(config)
        self.seen: deque[Seen] = deque(maxlen=2000)

    def next_id(self, prefix: str) -> str:
        with self.lock:
            n = self.counters.get(prefix, 0) + 1
            self.counters[prefix] = n
        return f"{prefix}-{n:03d}"


# --------------------------------------------------------------------------- request bodies


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class ChatMessage(_Strict):
    """One message of a conversation."""

    model_config = ConfigDict(strict=True, extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str


class ChatRequest(_Strict):
    """The body of ``POST /v1/chat/completions`` (the fields the course text uses)."""

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)
    top_p: float | None = Field(default=None, ge=0, le=1)
    user: str | None = None
    metadata: dict[str, str] | None = None


Metadata = dict[str, str | None]


class JobCreate(_Strict):
    """The body of ``POST /v1/fine_tuning/jobs``."""

    model: str
    training_file: str
    suffix: str | None = Field(default=None, max_length=64)
    metadata: dict[str, str] | None = None


class JobPatch(_Strict):
    """The body of ``PATCH /v1/fine_tuning/jobs/ID``: only the fields you send change.
    In ``metadata``, a key set to ``null`` is removed."""

    metadata: Metadata | None = None
    suffix: str | None = Field(default=None, max_length=64)


class JobPut(_Strict):
    """The body of ``PUT /v1/fine_tuning/jobs/ID``: the job's whole settings, every field required."""

    model: str
    training_file: str
    suffix: str | None = Field(max_length=64)
    metadata: dict[str, str]


# --------------------------------------------------------------------------- the application


def _now() -> int:
    return int(time.time())


def _loc_param(loc: Iterable[Any]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    if not parts:
        return None
    out = parts[0]
    for p in parts[1:]:
        out += f"[{p}]" if p.isdigit() else f".{p}"
    return out


class _BodyLimit:
    """ASGI middleware: bodies over ``config.max_body_bytes`` get a JSON 413 (read and dropped first,
    so the client sees the answer instead of a broken connection)."""

    DRAIN_CAP = 64_000_000

    def __init__(self, app: Any, state: _State) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.state.config.max_body_bytes
        length = None
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = None
        if length is not None and length > limit:
            await self._drain(receive, 0)
            await self._too_large(scope, receive, send, limit)
            return
        total = 0
        exceeded = False
        started = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal total, exceeded
            message = await receive()
            if message["type"] == "http.request":
                total += len(message.get("body", b""))
                if total > limit:
                    exceeded = True
                    raise _TooLarge(limit)
            return message

        async def watch_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watch_send)
        except _TooLarge:
            if started:
                raise
            await self._drain(receive, total)
            await self._too_large(scope, receive, send, limit)

    async def _drain(self, receive: Any, total: int) -> None:
        more = True
        while more and total < self.DRAIN_CAP:
            message = await receive()
            if message["type"] != "http.request":
                return
            total += len(message.get("body", b""))
            more = message.get("more_body", False)

    async def _too_large(self, scope: dict[str, Any], receive: Any, send: Any, limit: int) -> None:
        response = error_response(
            413,
            f"Request body too large: the practice API accepts at most {limit} bytes.",
            "invalid_request_error",
            None,
            "request_too_large",
            {"connection": "close"},
        )
        await response(scope, receive, send)


class _TooLarge(StarletteHTTPException):
    """Raised while reading a body that grows past the limit (an HTTPException, so FastAPI lets it
    through to the JSON error handler instead of calling it a parse error)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body too large: the practice API accepts at most {limit} bytes.")


class _Bookkeeping:
    """ASGI middleware: adds the ``x-ratelimit-*`` headers and a request id, and logs what it saw."""

    def __init__(self, app: Any, state: _State) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})
        request_id = self.state.next_id("req")
        logged = False

        def log(status: int) -> None:
            nonlocal logged
            if not logged:
                logged = True
                self.state.seen.append(
                    Seen(
                        at=time.monotonic(),
                        method=scope.get("method", "?"),
                        path=scope.get("path", "?"),
                        status=status,
                        who=scope["state"].get("apicourse_who"),
                    )
                )

        async def add_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                log(message["status"])  # before the client can see the answer
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                decision = scope["state"].get("apicourse_rate")
                extra: dict[str, str] = {"x-request-id": request_id}
                if decision is not None:
                    extra.update(decision.headers())
                for name, value in extra.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, add_headers)
        finally:
            log(500)  # only if no answer was started


def create_app(state: _State) -> FastAPI:
    """The FastAPI application behind a practice server (``start`` serves it for you)."""
    app = FastAPI(
        title="Working with APIs · practice API",
        version="1.0",
        description=(
            "A local, OpenAI-shaped API for practising REST, JSON, authentication and rate limits. "
            "Send `Authorization: Bearer <key>`; OAuth 2.0 client-credentials tokens come from "
            "`POST /oauth/token`."
        ),
        docs_url=None,  # the Swagger page loads scripts from the internet; /openapi.json is enough
        redoc_url=None,
        strict_content_type=False,  # a JSON body sent without a Content-Type is still read as JSON
    )
    bearer = HTTPBearer(auto_error=False, description="A practice API key or an OAuth access token.")

    # ---- errors: always JSON, always the same shape, never a 500 for a bad request

    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        if request.url.path.startswith("/v1/"):
            # like the real APIs: who you are is checked before what you sent (FastAPI reads the body first)
            try:
                authenticate(request)
            except APIError as refused:
                return refused.response()
        errors = list(exc.errors())
        first = errors[0] if errors else {}
        if first.get("type") == "json_invalid":
            detail = (first.get("ctx") or {}).get("error", "invalid JSON")
            loc = tuple(first.get("loc", ()))
            if len(loc) > 1 and isinstance(loc[1], int):
                detail += f" at character {loc[1]}"
            return error_response(
                400,
                "We could not parse the JSON body of your request "
                f"({detail}). The practice API expects a JSON payload: send it with json=..., "
                "or check your quotes, commas and brackets.",
                code="invalid_json",
            )
        param = _loc_param(first.get("loc", ()))
        msg = first.get("msg", "Invalid value")
        if tuple(first.get("loc", ())) == ("body",) and isinstance(first.get("input"), bytes):
            return error_response(
                400,
                "The request body is not JSON. Send a JSON object with json=... "
                "(which also sets Content-Type: application/json).",
                code="invalid_json",
            )
        if first.get("type") == "missing":
            message = f"Missing required parameter: '{param}'."
            code = "missing_required_parameter"
        elif first.get("type") == "extra_forbidden":
            message = f"Unrecognized request argument supplied: '{param}'."
            code = "unknown_parameter"
        else:
            where = f"'{param}'" if param else "the request body"
            message = f"Invalid value for {where}: {msg}."
            code = "invalid_value"
        if len(errors) > 1:
            message += f" ({len(errors) - 1} more problem{'s' if len(errors) > 2 else ''} in this request.)"
        return error_response(422, message, param=param, code=code)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        type_, code = _STATUS_ERRORS.get(exc.status_code, ("invalid_request_error", None))
        if exc.status_code == 404:
            message = (
                f"Unknown request URL: {request.method} {request.url.path}. Please check the URL for "
                "typos; every route is listed in /openapi.json."
            )
            code = "unknown_url"
        elif exc.status_code == 405:
            allowed = (exc.headers or {}).get("Allow", "")
            message = f"Method {request.method} is not allowed on {request.url.path} (allowed: {allowed})."
        elif exc.status_code == 400 and "parsing the body" in str(exc.detail):
            message = "We could not parse the body of your request: send a JSON object with json=...."
            code = "invalid_json"
        else:
            message = str(exc.detail)
        return error_response(exc.status_code, message, type_, None, code, dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - a bug
        return error_response(500, f"The practice server failed: {exc!r}", "server_error", None, None)

    # ---- auth

    def caller(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
    ) -> _Caller:
        # `credentials` puts the Bearer scheme in the OpenAPI document; the check reads the header itself
        return authenticate(request)

    def authenticate(request: Request) -> _Caller:
        """Who sent this request (an API key or an OAuth token), or the 401 that says what is wrong."""
        auth = request.headers.get("authorization")
        challenge = {"www-authenticate": 'Bearer realm="practice"'}
        scheme, _, value = (auth or "").strip().partition(" ")
        if not auth:
            raise APIError(
                401,
                "You didn't provide an API key. Send it in an Authorization header using Bearer auth "
                "(i.e. Authorization: Bearer YOUR_KEY).",
                "authentication_error",
                code="missing_api_key",
                headers=challenge,
            )
        if scheme.lower() != "bearer" or not value.strip():
            raise APIError(
                401,
                "The Authorization header must be 'Bearer YOUR_KEY' "
                "(the word Bearer, a space, then the key).",
                "authentication_error",
                code="invalid_authorization_header",
                headers=challenge,
            )
        value = value.strip()
        with state.lock:
            if value in state.keys:
                who = mask(value)
                request.scope["state"]["apicourse_who"] = who
                return _Caller(identity=f"key:{value}", scopes=frozenset(SCOPES), label=who)
            token = state.tokens.get(value)
            revoked = value in state.revoked
        if token is not None:
            if time.time() >= token.expires_at:
                raise APIError(
                    401,
                    "The access token expired. Fetch a new one from /oauth/token.",
                    "authentication_error",
                    code="token_expired",
                    headers={
                        "www-authenticate": 'Bearer realm="practice", error="invalid_token", '
                        'error_description="The access token expired"'
                    },
                )
            request.scope["state"]["apicourse_who"] = f"oauth:{token.client_id}"
            return _Caller(identity=f"client:{token.client_id}", scopes=token.scopes, label=token.client_id)
        why = " This key was revoked (rotated)." if revoked else ""
        raise APIError(
            401,
            f"Incorrect API key provided: {mask(value)}.{why} Check the key you sent; lesson 03 shows where "
            "your practice key lives.",
            "authentication_error",
            code="invalid_api_key",
            headers={**challenge},
        )

    def require(scope: str, count: bool = True) -> Any:
        def dependency(request: Request, who: _Caller = Depends(caller)) -> _Caller:
            if scope not in who.scopes:
                granted = " ".join(sorted(who.scopes)) or "(none)"
                raise APIError(
                    403,
                    f"You have insufficient permissions for this operation. Missing scope: {scope} "
                    f"(this token has: {granted}).",
                    "permission_error",
                    code="insufficient_scope",
                    headers={
                        "www-authenticate": 'Bearer realm="practice", error="insufficient_scope", '
                        f'scope="{scope}"'
                    },
                )
            if count:
                admit(request, who, 0)
            return who

        return dependency

    def admit(request: Request, who: _Caller, tokens: int, model: str | None = None) -> None:
        decision = state.limiter.admit(who.identity, tokens)
        request.scope["state"]["apicourse_rate"] = decision
        if decision.allowed:
            return
        cfg = state.config
        per = f"{format_duration(cfg.window_seconds)}" if cfg.window_seconds != 60 else "min"
        on = f" for {model}" if model else ""
        if decision.reason == "requests":
            message = (
                f"Rate limit reached{on} on requests per {per} (RPM): Limit {cfg.rpm}, "
                f"Used {cfg.rpm - decision.remaining_requests}, Requested 1. "
                f"Please try again in {format_duration(decision.retry_after)}."
            )
        else:
            used = cfg.tpm - decision.remaining_tokens
            message = (
                f"Rate limit reached{on} on tokens per {per} (TPM): Limit {cfg.tpm}, Used {used}, "
                f"Requested {tokens}. Please try again in {format_duration(decision.retry_after)}."
            )
        raise APIError(
            429, message, "rate_limit_error", decision.reason, "rate_limit_exceeded", decision.headers()
        )

    # ---- routes

    @app.get("/", include_in_schema=False)
    async def index() -> dict[str, Any]:
        return {"name": app.title, "openapi": "/openapi.json", "status": "/v1/status"}

    @app.get("/v1/status", tags=["status"], summary="Is the API up? (no key needed)")
    async def status() -> dict[str, Any]:
        return {"status": "ok", "time": _now()}

    def model_object(model_id: str) -> dict[str, Any]:
        return {"id": model_id, "object": "model", "created": 1_700_000_000, "owned_by": "apicourse-practice"}

    @app.get("/v1/models", tags=["models"], summary="List models")
    async def list_models(who: _Caller = Depends(require("models:read"))) -> dict[str, Any]:
        return {"object": "list", "data": [model_object(m) for m in MODELS]}

    @app.get("/v1/models/{model_id}", tags=["models"], summary="Get one model")
    async def get_model(model_id: str, who: _Caller = Depends(require("models:read"))) -> dict[str, Any]:
        if model_id not in MODELS:
            raise APIError(
                404, f"The model '{model_id}' does not exist.", param="model", code="model_not_found"
            )
        return model_object(model_id)

    # files

    def find_file(file_id: str) -> dict[str, Any]:
        with state.lock:
            found = state.files.get(file_id)
        if found is None:
            raise APIError(404, f"No such File object: {file_id}", param="id", code="file_not_found")
        return found

    @app.post("/v1/files", status_code=201, tags=["files"], summary="Upload a file (multipart/form-data)")
    async def upload_file(
        request: Request,
        file: UploadFile = File(..., description="the file's content"),
        purpose: Literal["fine-tune", "assistants", "batch", "user_data"] = Form(...),
        who: _Caller = Depends(require("files:write")),
    ) -> JSONResponse:
        data = await file.read()
        if not data:
            raise APIError(
                400, "The file is empty: there is nothing to upload.", param="file", code="empty_file"
            )
        file_id = state.next_id("file")
        obj = {
            "id": file_id,
            "object": "file",
            "bytes": len(data),
            "created_at": _now(),
            "filename": file.filename or "upload",
            "purpose": purpose,
        }
        with state.lock:
            state.files[file_id] = obj
            state.file_bytes[file_id] = data
        return JSONResponse(obj, status_code=201, headers={"location": f"/v1/files/{file_id}"})

    @app.get("/v1/files", tags=["files"], summary="List files")
    async def list_files(
        purpose: str | None = None, who: _Caller = Depends(require("files:read"))
    ) -> dict[str, Any]:
        with state.lock:
            data = [f for f in state.files.values() if purpose is None or f["purpose"] == purpose]
        return {"object": "list", "data": data}

    @app.get("/v1/files/{file_id}", tags=["files"], summary="Get one file's description")
    async def get_file(file_id: str, who: _Caller = Depends(require("files:read"))) -> dict[str, Any]:
        return find_file(file_id)

    @app.get("/v1/files/{file_id}/content", tags=["files"], summary="Download a file's content")
    async def get_file_content(file_id: str, who: _Caller = Depends(require("files:read"))) -> Response:
        find_file(file_id)
        with state.lock:
            data = state.file_bytes[file_id]
        return Response(data, media_type="application/octet-stream")

    @app.delete("/v1/files/{file_id}", tags=["files"], summary="Delete a file")
    async def delete_file(file_id: str, who: _Caller = Depends(require("files:write"))) -> dict[str, Any]:
        find_file(file_id)
        with state.lock:
            users = [
                j["id"]
                for j in state.jobs.values()
                if j["training_file"] == file_id and j["status"] == "queued"
            ]
            if users:
                raise APIError(
                    409,
                    f"File {file_id} is in use by fine-tuning job {users[0]}: "
                    "cancel or delete the job first.",
                    param="id",
                    code="file_in_use",
                )
            del state.files[file_id]
            state.file_bytes.pop(file_id, None)
        return {"id": file_id, "object": "file", "deleted": True}

    # fine-tuning jobs

    def find_job(job_id: str) -> dict[str, Any]:
        with state.lock:
            found = state.jobs.get(job_id)
        if found is None:
            raise APIError(404, f"No such fine-tuning job: {job_id}", param="id", code="job_not_found")
        return found

    def check_job_inputs(model: str, training_file: str) -> None:
        if model not in MODELS:
            raise APIError(404, f"The model '{model}' does not exist.", param="model", code="model_not_found")
        with state.lock:
            f = state.files.get(training_file)
        if f is None:
            raise APIError(
                400,
                f"Invalid training_file: no file with id {training_file}.",
                param="training_file",
                code="invalid_training_file",
            )
        if f["purpose"] != "fine-tune":
            raise APIError(
                400,
                f"File {training_file} was uploaded with purpose '{f['purpose']}', not 'fine-tune'.",
                param="training_file",
                code="invalid_training_file",
            )

    @app.post(
        "/v1/fine_tuning/jobs", status_code=201, tags=["fine-tuning"], summary="Create a fine-tuning job"
    )
    async def create_job(
        body: JobCreate, who: _Caller = Depends(require("fine_tuning:write"))
    ) -> JSONResponse:
        check_job_inputs(body.model, body.training_file)
        job_id = state.next_id("ftjob")
        job = {
            "id": job_id,
            "object": "fine_tuning.job",
            "model": body.model,
            "created_at": _now(),
            "status": "queued",
            "training_file": body.training_file,
            "suffix": body.suffix,
            "metadata": dict(body.metadata or {}),
            "fine_tuned_model": None,
            "finished_at": None,
        }
        with state.lock:
            state.jobs[job_id] = job
        return JSONResponse(job, status_code=201, headers={"location": f"/v1/fine_tuning/jobs/{job_id}"})

    @app.get("/v1/fine_tuning/jobs", tags=["fine-tuning"], summary="List fine-tuning jobs")
    async def list_jobs(who: _Caller = Depends(require("fine_tuning:read"))) -> dict[str, Any]:
        with state.lock:
            return {"object": "list", "data": list(state.jobs.values())}

    @app.get("/v1/fine_tuning/jobs/{job_id}", tags=["fine-tuning"], summary="Get one fine-tuning job")
    async def get_job(job_id: str, who: _Caller = Depends(require("fine_tuning:read"))) -> dict[str, Any]:
        return find_job(job_id)

    @app.patch("/v1/fine_tuning/jobs/{job_id}", tags=["fine-tuning"], summary="Change some of a job's fields")
    async def patch_job(
        job_id: str, body: JobPatch, who: _Caller = Depends(require("fine_tuning:write"))
    ) -> dict[str, Any]:
        job = find_job(job_id)
        sent = body.model_fields_set
        with state.lock:
            if "metadata" in sent and body.metadata is not None:
                for k, v in body.metadata.items():
                    if v is None:
                        job["metadata"].pop(k, None)
                    else:
                        job["metadata"][k] = v
            elif "metadata" in sent:
                job["metadata"] = {}
            if "suffix" in sent:
                job["suffix"] = body.suffix
        return job

    @app.put("/v1/fine_tuning/jobs/{job_id}", tags=["fine-tuning"], summary="Replace a job's settings")
    async def put_job(
        job_id: str, body: JobPut, who: _Caller = Depends(require("fine_tuning:write"))
    ) -> dict[str, Any]:
        job = find_job(job_id)
        if job["status"] != "queued":
            raise APIError(
                409,
                f"Job {job_id} is {job['status']}: only a queued job can be replaced.",
                code="job_not_queued",
            )
        check_job_inputs(body.model, body.training_file)
        with state.lock:
            job.update(
                model=body.model,
                training_file=body.training_file,
                suffix=body.suffix,
                metadata=dict(body.metadata),
            )
        return job

    @app.post("/v1/fine_tuning/jobs/{job_id}/cancel", tags=["fine-tuning"], summary="Cancel a job")
    async def cancel_job(job_id: str, who: _Caller = Depends(require("fine_tuning:write"))) -> dict[str, Any]:
        job = find_job(job_id)
        with state.lock:
            if job["status"] == "cancelled":
                raise APIError(409, f"Job {job_id} is already cancelled.", code="job_already_cancelled")
            job["status"], job["finished_at"] = "cancelled", _now()
        return job

    @app.delete(
        "/v1/fine_tuning/jobs/{job_id}", status_code=204, tags=["fine-tuning"], summary="Delete a job"
    )
    async def delete_job(job_id: str, who: _Caller = Depends(require("fine_tuning:write"))) -> Response:
        find_job(job_id)
        with state.lock:
            state.jobs.pop(job_id, None)
        return Response(status_code=204)

    # chat

    @app.post("/v1/chat/completions", tags=["chat"], summary="Create a chat completion (an echo)")
    async def chat(
        request: Request, body: ChatRequest, who: _Caller = Depends(require("chat:write", count=False))
    ) -> dict[str, Any]:
        if body.model not in MODELS:
            admit(request, who, 0)
            raise APIError(
                404, f"The model '{body.model}' does not exist.", param="model", code="model_not_found"
            )
        messages = [m.model_dump() for m in body.messages]
        content, finish = echo_answer(messages, body.max_tokens)
        prompt_tokens = sum(count_tokens(m["content"]) for m in messages)
        completion_tokens = count_tokens(content)
        admit(request, who, prompt_tokens + completion_tokens, body.model)
        return {
            "id": state.next_id("chatcmpl"),
            "object": "chat.completion",
            "created": _now(),
            "model": body.model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    # OAuth 2.0 client credentials (RFC 6749 §4.4), errors in the RFC's own shape

    def oauth_error(
        status: int, error: str, description: str, headers: dict[str, str] | None = None
    ) -> JSONResponse:
        return JSONResponse(
            {"error": error, "error_description": description},
            status_code=status,
            headers={"cache-control": "no-store", **(headers or {})},
        )

    @app.post(
        "/oauth/token",
        tags=["oauth"],
        summary="OAuth 2.0 token endpoint (grant_type=client_credentials)",
        openapi_extra={
            "requestBody": {
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "required": ["grant_type"],
                            "properties": {
                                "grant_type": {"type": "string", "enum": ["client_credentials"]},
                                "scope": {"type": "string", "description": "space-separated scopes"},
                                "client_id": {"type": "string"},
                                "client_secret": {"type": "string"},
                            },
                        }
                    }
                }
            }
        },
    )
    async def token(request: Request) -> JSONResponse:
        try:
            form = await request.form()
        except _TooLarge:
            raise
        except Exception:
            return oauth_error(400, "invalid_request", "The body must be application/x-www-form-urlencoded.")
        client_id = str(form.get("client_id") or "")
        client_secret = str(form.get("client_secret") or "")
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(auth[6:].strip(), validate=True).decode()
                from urllib.parse import unquote

                basic_id, _, basic_secret = decoded.partition(":")
                client_id, client_secret = unquote(basic_id), unquote(basic_secret)
            except (binascii.Error, UnicodeDecodeError):
                return oauth_error(
                    401,
                    "invalid_client",
                    "Malformed Basic credentials.",
                    {"www-authenticate": 'Basic realm="practice"'},
                )
        grant = form.get("grant_type")
        if not grant:
            return oauth_error(
                400, "invalid_request", "Missing grant_type (use grant_type=client_credentials)."
            )
        with state.lock:
            client = state.clients.get(client_id)
        if client is None or not secrets.compare_digest(client.client_secret, client_secret):
            return oauth_error(
                401,
                "invalid_client",
                "Unknown client or wrong secret.",
                {"www-authenticate": 'Basic realm="practice"'},
            )
        if grant != "client_credentials":
            return oauth_error(
                400,
                "unsupported_grant_type",
                f"This server only issues client_credentials tokens, not {grant}.",
            )
        requested = str(form.get("scope") or "").split()
        unknown = [s for s in requested if s not in SCOPES]
        if unknown:
            return oauth_error(
                400, "invalid_scope", f"Unknown scope(s): {' '.join(unknown)}. Known: {' '.join(SCOPES)}."
            )
        refused = [s for s in requested if s not in client.scopes]
        if refused:
            return oauth_error(400, "invalid_scope", f"This client may not ask for: {' '.join(refused)}.")
        scopes = frozenset(requested) if requested else client.scopes
        lifetime = float(state.config.token_lifetime)
        value = "pat-" + secrets.token_urlsafe(24)
        with state.lock:
            state.tokens[value] = Token(client.client_id, scopes, time.time() + lifetime)
        request.scope["state"]["apicourse_who"] = f"oauth:{client.client_id}"
        return JSONResponse(
            {
                "access_token": value,
                "token_type": "Bearer",
                "expires_in": max(1, math.ceil(lifetime)),  # whole seconds, as clients expect
                "scope": " ".join(s for s in SCOPES if s in scopes),
            },
            headers={"cache-control": "no-store", "pragma": "no-cache"},
        )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        from fastapi.openapi.utils import get_openapi

        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes["OAuth2ClientCredentials"] = {
            "type": "oauth2",
            "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": dict(SCOPES)}},
        }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(_Bookkeeping, state=state)
    app.add_middleware(_BodyLimit, state=state)
    return app


# --------------------------------------------------------------------------- the server handle

_RUNNING: list[PracticeAPI] = []
_LAST: PracticeAPI | None = None
_ATEXIT_REGISTERED = False


def _stop_all() -> None:
    for api in list(_RUNNING):
        api.stop()


class PracticeAPI:
    """A running practice server. Made by :func:`start`; use ``.url``, ``.key``, ``.headers``, ``.stop()``."""

    def __init__(
        self, config: PracticeConfig, key: str, client_scopes: Iterable[str] = tuple(SCOPES)
    ) -> None:
        import uvicorn

        self.config = config
        self._state = _State(config)
        self.key = key
        self._state.keys.add(key)
        self.client_id = "practice-client"
        self.client_secret = secrets.token_hex(12)
        self._state.clients[self.client_id] = Client(
            self.client_id, self.client_secret, frozenset(client_scopes)
        )
        self.app = create_app(self._state)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((HOST, 0))
        self.host, self.port = self._socket.getsockname()[:2]
        self._server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                log_level="warning",
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=1,
                timeout_keep_alive=5,
            )
        )
        self._thread = threading.Thread(target=self._serve, name=f"practice-api-{self.port}", daemon=True)
        self._error: BaseException | None = None

    def _serve(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self._socket]))
        except BaseException as exc:  # pragma: no cover - reported by start()
            self._error = exc

    def _start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"the practice API could not start: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the practice API did not start within 10 s")
            time.sleep(0.01)
        _RUNNING.append(self)

    # -- what a notebook uses

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321`` (add ``/v1/models`` and so on)."""
        return f"http://{self.host}:{self.port}"

    @property
    def token_url(self) -> str:
        """The OAuth 2.0 token endpoint."""
        return f"{self.url}/oauth/token"

    @property
    def headers(self) -> dict[str, str]:
        """``{"Authorization": "Bearer <key>"}`` for the current key."""
        return {"Authorization": f"Bearer {self.key}"}

    @property
    def running(self) -> bool:
        """True until :meth:`stop`."""
        return self._thread.is_alive() and not self._server.should_exit

    @property
    def seen(self) -> list[Seen]:
        """The requests this server received, oldest first (the last 2000)."""
        return list(self._state.seen)

    def configure(self, **changes: Any) -> None:
        """Change limits while the server runs: ``api.configure(rpm=3, window_seconds=2)``.

        Also resets the rate-limit windows, so the new limits start fresh.
        """
        known = {f.name for f in fields(PracticeConfig)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown setting(s) {sorted(unknown)}; known: {sorted(known)}")
        for name, value in changes.items():
            setattr(self.config, name, value)
        self._state.limiter.reset()

    def reset_limits(self) -> None:
        """Forget recent requests: every key gets its full budget again."""
        self._state.limiter.reset()

    def accept_key(self, key: str) -> None:
        """Make the server accept another API key (e.g. the one in your ``.env``)."""
        with self._state.lock:
            self._state.keys.add(key)
            self._state.revoked.discard(key)

    def revoke_key(self, key: str) -> None:
        """Stop accepting a key: it gets 401 from now on."""
        with self._state.lock:
            self._state.keys.discard(key)
            self._state.revoked.add(key)
        if key == self.key and self._state.keys:
            self.key = sorted(self._state.keys)[0]

    def rotate_key(self) -> str:
        """Issue a new key, revoke the old one and return the new one (``.key`` follows)."""
        old, new = self.key, new_key()
        self.accept_key(new)
        self.key = new
        self.revoke_key(old)
        return new

    def add_client(self, client_id: str, client_secret: str, scopes: Iterable[str] = tuple(SCOPES)) -> None:
        """Register another OAuth client (``client_id``/``client_secret``) allowed some scopes."""
        unknown = set(scopes) - set(SCOPES)
        if unknown:
            raise ValueError(f"unknown scopes {sorted(unknown)}")
        with self._state.lock:
            self._state.clients[client_id] = Client(client_id, client_secret, frozenset(scopes))

    def token_info(self, access_token: str) -> dict[str, Any]:
        """What the server knows about an access token: ``{"active", "scope", "client_id", "expires_in"}``."""
        with self._state.lock:
            token = self._state.tokens.get(access_token)
        if token is None:
            return {"active": False}
        left = token.expires_at - time.time()
        return {
            "active": left > 0,
            "scope": " ".join(s for s in SCOPES if s in token.scopes),
            "client_id": token.client_id,
            "expires_in": max(0.0, left),
        }

    def stop(self) -> None:
        """Stop serving and free the port. Safe to call twice."""
        self._server.should_exit = True
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)
        try:
            self._socket.close()
        except OSError:  # pragma: no cover
            pass
        if self in _RUNNING:
            _RUNNING.remove(self)

    def __enter__(self) -> PracticeAPI:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def describe(self) -> list[str]:
        """The handle as text lines (the key is masked)."""
        cfg = self.config
        window = "minute" if cfg.window_seconds == 60 else f"{format_duration(cfg.window_seconds)}"
        state = "running" if self.running else "stopped"
        return [
            f"Practice API · {self.url} ({state})",
            f"  key      {mask(self.key)}   (api.key; send it as Authorization: Bearer ...)",
            f"  limits   {cfg.rpm} requests and {cfg.tpm} tokens per {window} per key",
            f"  OAuth    client_id={self.client_id}, token endpoint {self.token_url}",
            f"  routes   {self.url}/openapi.json",
        ]

    def __repr__(self) -> str:
        return "\n".join(self.describe())

    def _repr_html_(self) -> str:
        lines = self.describe()
        body = "".join(f"<div>{html.escape(line.strip())}</div>" for line in lines[1:])
        return (
            '<div class="apicourse-practice" style="border:1px solid #888;border-radius:6px;'
            f'padding:6px 10px;font-size:0.9em"><b>{html.escape(lines[0])}</b>{body}</div>'
        )


def start(
    *,
    rpm: int | None = None,
    tpm: int | None = None,
    window_seconds: float | None = None,
    token_lifetime: float | None = None,
    max_body_bytes: int | None = None,
    key: str | None = None,
    replace: bool = True,
    quiet: bool = False,
) -> PracticeAPI:
    """Start a practice server on 127.0.0.1 and a free port; return its handle.

    >>> api = start(rpm=2, window_seconds=1, quiet=True)
    >>> api.url.startswith("http://127.0.0.1:"), api.config.rpm
    (True, 2)
    >>> api.stop()

    The key it accepts is ``key``, else ``PRACTICE_API_KEY`` (environment or ``.env``, see
    :func:`saved_key`), else a new random one; it is ``api.key`` either way. ``replace=True`` stops
    the server that the previous ``start()`` in this kernel returned, so re-running a cell doesn't
    pile servers up, and makes this one :func:`current`; ``replace=False`` starts a side server
    (the checks and tests use those). Every server also stops when the interpreter (the kernel) exits.
    """
    global _LAST, _ATEXIT_REGISTERED
    if replace and _LAST is not None:
        _LAST.stop()
    config = PracticeConfig()
    overrides = {
        "rpm": rpm,
        "tpm": tpm,
        "window_seconds": window_seconds,
        "token_lifetime": token_lifetime,
        "max_body_bytes": max_body_bytes,
    }
    config = replace_config(config, {k: v for k, v in overrides.items() if v is not None})
    api = PracticeAPI(config, key or saved_key() or new_key())
    api._start()
    if not _ATEXIT_REGISTERED:
        atexit.register(_stop_all)
        _ATEXIT_REGISTERED = True
    if replace:
        _LAST = api  # the notebook's server; a side server (replace=False) never becomes "current"
    if not quiet:
        _show(api)
    return api


def replace_config(config: PracticeConfig, changes: dict[str, Any]) -> PracticeConfig:
    """A copy of ``config`` with some settings changed.

    >>> replace_config(PracticeConfig(), {"rpm": 5}).rpm
    5
    """
    return replace(config, **changes)


def current() -> PracticeAPI | None:
    """The server the last :func:`start` returned, if it still runs."""
    return _LAST if _LAST is not None and _LAST.running else None


def _show(api: PracticeAPI) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is not None:
            display(api)
            return
    except ImportError:  # pragma: no cover
        pass
    print(api)


def to_json(data: Any) -> str:
    """Pretty JSON text, as the lessons show responses.

    >>> print(to_json({"a": [1, 2]}))
    {
      "a": [
        1,
        2
      ]
    }
    """
    return json.dumps(data, indent=2, ensure_ascii=False)
