"""The two ASGI middlewares around every request: the body-size limit (413) and the bookkeeping
(``x-ratelimit-*`` headers, a request id, the log behind ``api.seen``).

They are plain ASGI classes (not ``BaseHTTPMiddleware``) so that a body is limited while it streams in.
The app factory adds them with ``app.add_middleware(BodyLimit, state=state)``.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException

from apicourse.practice.errors import error_response
from apicourse.practice.state import PracticeState, Seen


class BodyLimit:
    """ASGI middleware: bodies over ``config.max_body_bytes`` get a JSON 413 (read and dropped first,
    so the client sees the answer instead of a broken connection)."""

    DRAIN_CAP = 64_000_000

    def __init__(self, app: Any, state: PracticeState) -> None:
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
                    raise TooLarge(limit)
            return message

        async def watch_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watch_send)
        except TooLarge:
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


class TooLarge(StarletteHTTPException):
    """Raised while reading a body that grows past the limit (an HTTPException, so FastAPI lets it
    through to the JSON error handler instead of calling it a parse error)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body too large: the practice API accepts at most {limit} bytes.")


class Bookkeeping:
    """ASGI middleware: adds the ``x-ratelimit-*`` headers and a request id, and logs what it saw."""

    def __init__(self, app: Any, state: PracticeState) -> None:
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
