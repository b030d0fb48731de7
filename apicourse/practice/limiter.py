"""Sliding-window rate limits per key, and the ``x-ratelimit-*`` headers that describe them.

Pure bookkeeping with the clock passed in, so it is tested without waiting; the dependency that
applies it to requests is :mod:`apicourse.practice.ratelimit`::

    >>> limiter = RateLimiter(PracticeConfig(rpm=1, window_seconds=10))
    >>> limiter.admit("k", now=0.0).allowed, limiter.admit("k", now=1.0).allowed
    (True, False)
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass

from apicourse.practice.config import PracticeConfig


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
