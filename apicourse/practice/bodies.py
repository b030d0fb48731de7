"""JSON bodies nested deeper than :data:`MAX_DEPTH` are refused before they are parsed.

Python's ``json`` parser recurses once per ``[`` or ``{``: a body of 100,000 brackets drives the server's
thread (inside the learner's kernel, or the tests' process) to the interpreter's recursion limit. Garbage
collected there cannot even report its own errors ("Exception ignored … RecursionError"). Every router uses
:class:`DepthCheckedRoute`, whose requests check the nesting first; FastAPI turns the refusal into a
``400 invalid_json`` like any other malformed body::

    >>> too_deep_at(b'{"messages": [{"content": "[[[ in a string ]"}]}', limit=3) is None
    True
    >>> too_deep_at(b'{"a": [[[[1]]]]}', limit=3)  # the fourth bracket
    8
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

MAX_DEPTH = 100
"""Far above any request the course sends (a chat request with tools nests about 8 deep), far below the
interpreter's recursion limit (1,000)."""

_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)  # a string (skipped whole), or a bracket


def too_deep_at(body: bytes, limit: int = MAX_DEPTH) -> int | None:
    """Where (a byte offset) the brackets of a JSON text first nest deeper than ``limit``, else None; brackets
    inside strings do not count."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return None
    depth = 0
    for token in _TOKEN.finditer(body):
        if token[0] in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return token.start()
        elif token[0] in (b"]", b"}"):
            depth -= 1
    return None


class DepthCheckedRequest(Request):
    """Starlette's request, except that :meth:`json` refuses a body nested deeper than :data:`MAX_DEPTH`."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            where = too_deep_at(body)
            if where is not None:
                text = body.decode("utf-8", "replace")
                raise json.JSONDecodeError(f"brackets nested deeper than {MAX_DEPTH} levels", text, where)
            self._json = json.loads(body)
        return self._json


class DepthCheckedRoute(APIRoute):
    """A route whose handler reads its request as a :class:`DepthCheckedRequest` (FastAPI's documented way
    to change the request class: "Custom Request and APIRoute class")."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            return await handler(DepthCheckedRequest(request.scope, request.receive))

        return checked
