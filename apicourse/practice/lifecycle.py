"""A practice server's life: start it on a free loopback port in a background thread, change its
limits and keys while it runs, stop it (twice is fine; it also stops when the kernel exits)::

    >>> api = start(rpm=2, window_seconds=1, quiet=True)
    >>> api.running, api.url.startswith("http://127.0.0.1:")
    (True, True)
    >>> api.stop()
    >>> api.running
    False
"""

from __future__ import annotations

import asyncio
import atexit
import html
import secrets
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import fields
from typing import Any

from apicourse.practice.config import HOST, SCOPES, PracticeConfig, replace_config
from apicourse.practice.keys import mask, new_key, saved_key
from apicourse.practice.limiter import format_duration
from apicourse.practice.main import create_app
from apicourse.practice.state import Client, PracticeState, Seen

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
        self._state = PracticeState(config)
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
