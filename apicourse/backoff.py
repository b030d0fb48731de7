"""Exponential backoff, as lesson 04 builds it by hand: the reference the widget and the checks use.

The wait before retry number ``attempt`` (0 for the first retry) is ``base * factor ** attempt``,
never more than ``cap``, randomised by *jitter* so that many clients refused at the same moment
don't all come back at the same moment:

* ``"none"``  – exactly the exponential value: 0.5, 1, 2, 4 …
* ``"full"``  – anywhere between 0 and that value (AWS's "full jitter")
* ``"equal"`` – half of it for sure, plus up to the other half at random

A server's ``Retry-After`` header wins over all of this: it says when to come back.
"""

from __future__ import annotations

import email.utils
import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Jitter = Literal["none", "full", "equal"]
JITTERS: tuple[str, ...] = ("none", "full", "equal")


def backoff_delay(
    attempt: int,
    base: float = 0.5,
    cap: float = 8.0,
    jitter: Jitter = "full",
    factor: float = 2.0,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt`` (0, 1, 2 …).

    >>> [backoff_delay(a, base=0.5, cap=3, jitter="none") for a in range(5)]
    [0.5, 1.0, 2.0, 3, 3]
    >>> 0 <= backoff_delay(3, jitter="full") <= 4.0
    True
    >>> 2.0 <= backoff_delay(3, jitter="equal") <= 4.0
    True
    """
    if jitter not in JITTERS:
        raise ValueError(f"jitter must be one of {JITTERS}, not {jitter!r}")
    rng = rng or random
    ceiling = min(cap, base * factor**attempt)
    if jitter == "full":
        return rng.uniform(0, ceiling)
    if jitter == "equal":
        return ceiling / 2 + rng.uniform(0, ceiling / 2)
    return ceiling


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """How long a response's headers ask you to wait, or None when they don't say.

    Reads ``retry-after-ms`` (OpenAI's, in milliseconds) first, then ``Retry-After`` — seconds, or
    an HTTP date. Header names are matched in any case.

    >>> retry_after_seconds({"Retry-After": "2"})
    2.0
    >>> retry_after_seconds({"retry-after-ms": "350", "retry-after": "1"})
    0.35
    >>> retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:05 GMT"}, now=1445412480.0)
    5.0
    >>> retry_after_seconds({}) is None
    True
    """
    lower = {k.lower(): v for k, v in headers.items()}
    for name, per_second in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = lower.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / per_second)
        except ValueError:
            pass
        if name == "retry-after":
            try:
                when = email.utils.parsedate_to_datetime(value).timestamp()
            except (TypeError, ValueError):
                return None
            return max(0.0, when - (time.time() if now is None else now))
    return None


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def parse_duration(text: str) -> float:
    """Seconds in an OpenAI-style duration such as ``x-ratelimit-reset-requests``.

    >>> parse_duration("6m0s"), parse_duration("1.5s"), parse_duration("250ms"), parse_duration("1h2m")
    (360.0, 1.5, 0.25, 3720.0)
    """
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    parts = _DURATION.findall(text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(n) * units[u] for n, u in parts)


@dataclass(frozen=True)
class Step:
    """One attempt in a backoff timeline: when it starts, how long it takes, the wait that follows."""

    attempt: int  # 1, 2, 3 …
    start: float
    duration: float
    wait: float  # 0 after the last attempt
    succeeded: bool

    @property
    def end(self) -> float:
        """When the attempt's answer arrived."""
        return self.start + self.duration


def timeline(
    base: float = 0.5,
    retries: int = 5,
    jitter: Jitter = "full",
    cap: float = 8.0,
    factor: float = 2.0,
    attempt_seconds: float = 0.2,
    succeed_on: int | None = None,
    seed: int | None = 0,
) -> list[Step]:
    """The attempts and waits of one backoff run: the first try plus up to ``retries`` retries.

    ``succeed_on`` is the attempt that works (None: every attempt is refused). ``seed`` makes the
    jitter repeatable (None: new random draws each call).

    >>> steps = timeline(base=1, retries=3, jitter="none", attempt_seconds=0)
    >>> [(s.attempt, s.start, s.wait) for s in steps]
    [(1, 0.0, 1.0), (2, 1.0, 2.0), (3, 3.0, 4.0), (4, 7.0, 0.0)]
    >>> timeline(retries=3, succeed_on=2, jitter="none")[-1].succeeded
    True
    """
    if retries < 0:
        raise ValueError("retries must be 0 or more")
    rng = random.Random(seed)
    steps: list[Step] = []
    now = 0.0
    for number in range(1, retries + 2):
        ok = succeed_on is not None and number >= succeed_on
        last = ok or number == retries + 1
        wait = 0.0 if last else backoff_delay(number - 1, base, cap, jitter, factor, rng)
        steps.append(Step(number, round(now, 6), attempt_seconds, round(wait, 6), ok))
        now += attempt_seconds + wait
        if last:
            break
    return steps


def total_wait(steps: list[Step]) -> float:
    """Seconds spent waiting (not counting the attempts themselves).

    >>> total_wait(timeline(base=1, retries=3, jitter="none"))
    7.0
    """
    return round(sum(s.wait for s in steps), 6)
