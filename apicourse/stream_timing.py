"""Time a stream: when did the first text arrive, and when the last?

Streaming does not make a model faster; it makes the wait *feel* shorter, because the first words
show up long before the last. Wrap any iterator of text pieces to measure both::

    >>> timer = StreamTimer()
    >>> "".join(timer.wrap(iter(["Hel", "lo"])))
    'Hello'
    >>> timer.first_token_s <= timer.total_s
    True
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator


class StreamTimer:
    """Measures time to first token (``first_token_s``) and total time (``total_s``), in seconds."""

    def __init__(self) -> None:
        self.first_token_s: float | None = None
        self.total_s: float | None = None
        self.pieces = 0

    def wrap(self, pieces: Iterable[str], *, started: float | None = None) -> Iterator[str]:
        """Yield the pieces unchanged while timing them (from ``started``, default: now)."""
        start = time.perf_counter() if started is None else started
        for piece in pieces:
            if self.first_token_s is None and piece:
                self.first_token_s = time.perf_counter() - start
            self.pieces += 1
            yield piece
        self.total_s = time.perf_counter() - start

    def __str__(self) -> str:
        if self.total_s is None:
            return "stream not finished"
        first = f"{self.first_token_s:.2f}s" if self.first_token_s is not None else "never"
        return f"first text after {first}, all {self.pieces} pieces after {self.total_s:.2f}s"
