"""What one practice server remembers (keys, OAuth clients and tokens, files, jobs, the request log),
and the dependency that hands it to a route.

Every route reads it with ``state: StateDep``; the app factory puts it on ``app.state.practice``::

    >>> st = PracticeState(PracticeConfig())
    >>> st.next_id("file"), st.next_id("file")
    ('file-001', 'file-002')
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from apicourse.practice.config import PracticeConfig
from apicourse.practice.limiter import RateLimiter


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
class Caller:
    """Who sent a request: what the rate limits count against, the scopes it holds, a printable name."""

    identity: str
    scopes: frozenset[str]
    label: str


class PracticeState:
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
        """The next id of a kind: ``file-001``, ``file-002``, …"""
        with self.lock:
            n = self.counters.get(prefix, 0) + 1
            self.counters[prefix] = n
        return f"{prefix}-{n:03d}"


def get_state(request: Request) -> PracticeState:
    """The dependency that gives a route its server's state (``app.state.practice``)."""
    return request.app.state.practice


StateDep = Annotated[PracticeState, Depends(get_state)]
"""Write ``state: StateDep`` in a route's parameters to get the server's state."""
