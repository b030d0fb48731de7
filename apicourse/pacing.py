"""Replayed streams arrive at a readable pace, so a streaming cell shows text appearing offline.

vcrpy hands a recorded server-sent-event body back all at once. In replay mode :func:`install` (called
by :func:`apicourse.start`) makes every replayed ``text/event-stream`` response deliver its events one
by one, :func:`delay` seconds apart (total capped at :data:`MAX_TOTAL` seconds per stream), to sync and
async SDK iterators alike. ``APICOURSE_STREAM_DELAY=0`` turns pacing off (tests, benchmarks).

>>> split_events(b"data: 1\\n\\ndata: 2\\n\\n")
[b'data: 1\\n\\n', b'data: 2\\n\\n']
>>> delay({"APICOURSE_STREAM_DELAY": "0"})
0.0
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

DELAY_VAR = "APICOURSE_STREAM_DELAY"
"""Seconds between replayed stream events (default 0.025); 0 turns pacing off."""
DEFAULT_DELAY = 0.025
MAX_TOTAL = 4.0
"""However long a recorded stream, replaying it takes at most this many seconds."""

_sleep = time.sleep  # one name to replace in tests
_EVENT_END = re.compile(rb"(?<=\n\n)|(?<=\r\n\r\n)")


def delay(environ: Mapping[str, str] | None = None) -> float:
    """The pause between events, from ``APICOURSE_STREAM_DELAY`` (seconds; bad values mean the default)."""
    env = os.environ if environ is None else environ
    try:
        return max(0.0, float(env.get(DELAY_VAR, DEFAULT_DELAY)))
    except ValueError:
        return DEFAULT_DELAY


def split_events(body: bytes) -> list[bytes]:
    """Cut an SSE body after each blank line, keeping every byte."""
    return [part for part in _EVENT_END.split(body) if part]


def _stream_classes() -> tuple[type, type]:
    import httpx2

    return httpx2.SyncByteStream, httpx2.AsyncByteStream


class PacedStream(*_stream_classes()):  # type: ignore[misc]
    """A response body that yields one SSE event at a time, ``pause`` seconds apart."""

    def __init__(self, body: bytes, pause: float) -> None:
        self.events = split_events(body)
        self.pause = min(pause, MAX_TOTAL / max(len(self.events), 1))

    def __iter__(self) -> Iterator[bytes]:
        for index, event in enumerate(self.events):
            if index and self.pause:
                _sleep(self.pause)
            yield event

    async def __aiter__(self) -> AsyncIterator[bytes]:
        import anyio

        for index, event in enumerate(self.events):
            if index and self.pause:
                await anyio.sleep(self.pause)
            yield event

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


def pace(response: Any) -> Any:
    """Give a replayed ``text/event-stream`` response a :class:`PacedStream` body (others pass unchanged)."""
    pause = delay()
    if pause <= 0 or not response.headers.get("content-type", "").startswith("text/event-stream"):
        return response
    body = b"".join(response.stream)
    response.stream = PacedStream(body, pause)
    return response


def install() -> None:
    """Pace every stream vcrpy replays from now on in this process (idempotent)."""
    import vcr.stubs.httpx_stubs as stubs

    if getattr(stubs._play_responses, "_apicourse_paced", False):
        return
    original = stubs._play_responses

    def play(cassette: Any, vcr_request: Any, httpx: Any) -> Any:
        return pace(original(cassette, vcr_request, httpx))

    play._apicourse_paced = True  # type: ignore[attr-defined]
    stubs._play_responses = play
