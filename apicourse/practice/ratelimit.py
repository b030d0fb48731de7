"""Rate limiting as a dependency: each request counts against its caller's budget, or gets a 429
with ``Retry-After``. The arithmetic lives in :mod:`apicourse.practice.limiter`.

A route that costs one request declares ``Security(rate_limited, scopes=[...])``; the chat route counts
its tokens itself with :func:`admit`, once it knows how many it used.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Request, Security

from apicourse.practice.errors import APIError
from apicourse.practice.limiter import format_duration
from apicourse.practice.scopes import authorized
from apicourse.practice.state import Caller, get_state


def admit(request: Request, who: Caller, tokens: int, model: str | None = None) -> None:
    """Count one request costing ``tokens`` tokens against ``who``, or raise the 429 that says why.

    The decision is left on the request for the bookkeeping middleware, which turns it into the
    ``x-ratelimit-*`` headers of the answer (whatever the answer is).
    """
    state = get_state(request)
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
    raise APIError(429, message, "rate_limit_error", decision.reason, "rate_limit_exceeded", decision.headers())


def rate_limited(request: Request, who: Annotated[Caller, Security(authorized)]) -> Caller:
    """The dependency of every route that costs one request: authorized (scopes pass down), then counted."""
    admit(request, who, 0)
    return who
