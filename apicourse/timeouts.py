"""Timeouts, demonstrated for real: a loopback server that accepts a connection and never answers.

Without a timeout a client waits for such a server for as long as the SDK's default allows (ten
minutes for OpenAI's and Anthropic's). With one, it gives up and raises — something your code can
catch, retry or report::

    >>> import socket
    >>> with silent_server() as url:
    ...     host, port = url.removeprefix("http://").split(":")
    ...     conn = socket.create_connection((host, int(port)), timeout=0.2)
    ...     conn.settimeout(0.2)
    ...     try:
    ...         conn.recv(1)
    ...     except TimeoutError:
    ...         print("no answer within 0.2 s")
    ...     finally:
    ...         conn.close()
    no answer within 0.2 s
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SDK_DEFAULT_TIMEOUT_S = 600.0
"""What openai and anthropic wait by default (seconds): far too long for an interactive app."""


@contextmanager
def silent_server() -> Iterator[str]:
    """A server on 127.0.0.1 (a free port) that accepts connections and never replies; yields its URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.1)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept_forever() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            held.append(conn)  # keep it open, say nothing

    thread = threading.Thread(target=accept_forever, name="silent-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=1)
        for conn in held:
            conn.close()
        listener.close()


def timeout_seconds(client: Any) -> float | None:
    """The read timeout an SDK client (openai, anthropic) will use, in seconds (``None`` = wait forever).

    >>> import openai
    >>> timeout_seconds(openai.OpenAI(api_key="placeholder", timeout=20))
    20.0
    """
    timeout = getattr(client, "timeout", None)
    if timeout is None or isinstance(timeout, (int, float)):
        return None if timeout is None else float(timeout)
    read = getattr(timeout, "read", None)  # an httpx2.Timeout
    return None if read is None else float(read)
