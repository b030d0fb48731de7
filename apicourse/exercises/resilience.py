"""Checks for lesson 09's exercise: the learner's ``safe_api_call``, tried against failures simulated at the transport.

The check gives ``safe_api_call(client, messages, max_retries=3)`` an ``anthropic.Anthropic`` client
(with the SDK's own retries off) whose transport, an ``httpx2.MockTransport``, answers from a script:
429, 529, 500, 503, 400, 401, a dropped connection, then a success — in Anthropic's own error JSON, so
the SDK raises its own exception classes. ``time.sleep`` is recorded instead of slept, so the check
takes a second, not a minute. Nothing is sent anywhere, and the one answer is labelled simulated. ::

    >>> import anthropic, random, time
    >>> def safe_api_call(client, messages, max_retries=3):
    ...     for attempt in range(max_retries):
    ...         try:
    ...             reply = client.messages.create(model="claude-sonnet-4-6", max_tokens=300, messages=messages)
    ...             return reply.content[0].text
    ...         except (anthropic.RateLimitError, anthropic.InternalServerError, anthropic.APIConnectionError):
    ...             if attempt == max_retries - 1:
    ...                 raise
    ...             time.sleep(random.uniform(0, 2 ** attempt))
    >>> v = check_safe_api_call(safe_api_call)
    ✓ Retried 429, 529, 5xx and a dropped connection, waiting in between; raised 400 and 401 at once; gave up.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Callable
from typing import Any

from apicourse.exercises.basics import Verdict, _hint, _ok
from apicourse.exercises.sandbox import describe, run

ANSWER = "The call worked. (a simulated answer, written for this check)"
# Status → Anthropic's error type, as on the "Errors" page of Anthropic's API docs (429 rate_limit_error, 529
# overloaded_error, 500 api_error …). The pinned SDK's classes are in anthropic/_exceptions.py, each naming its
# status: 429 RateLimitError; 529 OverloadedError and 503 ServiceUnavailableError, both InternalServerError.
ERRORS = {
    400: ("invalid_request_error", "messages: text content blocks must be non-empty"),
    401: ("authentication_error", "invalid x-api-key"),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
    500: ("api_error", "Internal server error"),
    503: ("api_error", "Service unavailable"),
    529: ("overloaded_error", "Overloaded"),
}
DROP = "drop"
SCENARIOS: list[tuple[str, list[int | str], str]] = [  # (what happens, script, expected: "text" or a class name)
    ("a 429 (rate limited)", [429, 200], "text"),
    ("a 529 (overloaded)", [529, 200], "text"),
    ("a 500 and then a 503", [500, 503, 200], "text"),
    ("a dropped connection", [DROP, 200], "text"),
    ("a 400 (bad request)", [400, 200], "BadRequestError"),
    ("a 401 (wrong key)", [401, 200], "AuthenticationError"),
    ("a 429 on every attempt", [429] * 30, "give up"),
]
MAX_ATTEMPTS = 12


class TooManyAttempts(BaseException):
    """Raised by the simulated transport to stop a loop that never gives up (not an ``Exception``, so
    ``except Exception`` can't swallow it)."""


def _message() -> dict[str, Any]:
    return {
        "id": "msg_simulated_for_the_check", "type": "message", "role": "assistant", "model": "simulated",
        "content": [{"type": "text", "text": ANSWER}], "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 9},
    }  # fmt: skip


def simulated_client(script: list[int | str]) -> tuple[Any, list[Any]]:
    """An ``anthropic.Anthropic`` client whose transport plays ``script``; and the list of requests it saw.

    >>> client, seen = simulated_client([529, 200])
    >>> client.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": "Hi"}])
    Traceback (most recent call last):
    ...
    anthropic.OverloadedError: Error code: 529 - {'type': 'error', 'error': {'type': 'overloaded_error', ...
    """
    import anthropic
    import httpx2

    seen: list[Any] = []

    def answer(request: Any) -> Any:
        seen.append(request)
        if len(seen) > MAX_ATTEMPTS:
            raise TooManyAttempts
        step = script[min(len(seen), len(script)) - 1]
        if step == DROP:
            raise httpx2.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        headers = {"request-id": f"req_simulated_{len(seen)}"}
        if step == 200:
            return httpx2.Response(200, json=_message(), headers=headers)
        kind, text = ERRORS[int(step)]
        if step == 429:
            headers["retry-after"] = "1"
        body = {"type": "error", "error": {"type": kind, "message": text}, "request_id": headers["request-id"]}
        return httpx2.Response(int(step), content=json.dumps(body), headers=headers)

    http = httpx2.Client(transport=httpx2.MockTransport(answer))
    return anthropic.Anthropic(api_key="sk-ant-simulated", http_client=http, max_retries=0), seen


class _RecordedSleep:
    """Replace ``time.sleep`` (and a ``sleep`` imported from it into the learner's module) by a recorder."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.waits: list[float] = []
        self.names = getattr(function, "__globals__", {})
        self.real = time.sleep

    def __call__(self, seconds: float) -> None:
        self.waits.append(float(seconds))

    def __enter__(self) -> _RecordedSleep:
        time.sleep = self  # type: ignore[assignment]
        self.imported = self.names.get("sleep") is self.real
        if self.imported:
            self.names["sleep"] = self
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep = self.real
        if self.imported:
            self.names["sleep"] = self.real


def _chain(error: BaseException | None) -> list[str]:
    names = []
    while error is not None and len(names) < 5:
        names += [cls.__name__ for cls in type(error).__mro__]
        error = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
    return names


def _scenario(safe_api_call: Callable[..., Any], label: str, script: list[int | str], expected: str) -> str | None:
    """Run one scenario; what went wrong, or ``None``."""
    client, seen = simulated_client(script)
    with _RecordedSleep(safe_api_call) as sleep:
        outcome = run(safe_api_call, client, [{"role": "user", "content": "Hello"}], max_retries=3, seconds=10)
    tries, waits = len(seen), sleep.waits
    if not outcome.finished:
        return f"After {label} it was still running 10 s later (without time.sleep's waits). Does the loop end?"
    if outcome.value is None and outcome.error is None and not seen:
        return "safe_api_call sends nothing yet: write its body (the course text's version is in the lesson above)."
    if isinstance(outcome.error, TooManyAttempts):
        return f"After {label} it never gave up ({MAX_ATTEMPTS} attempts and counting): stop after max_retries."
    if expected == "text":
        if outcome.error is not None:
            return (f"{label.capitalize()} ended the call with {type(outcome.error).__name__}: "
                    "that failure is worth another attempt after a pause.")  # fmt: skip
        if len(waits) < tries - 1:
            return f"After {label} it tried again without waiting: pause before each new attempt."
        if outcome.value != ANSWER and getattr(getattr(outcome.value, "content", [None])[0], "text", None) != ANSWER:
            return f"After {label} it returned {describe(outcome.value)}; return the answer's text."
        return None
    if expected == "give up":
        if outcome.error is None:
            return (f"After {label} it returned {describe(outcome.value)}: when every attempt fails, raise, "
                    "so the caller knows there is no answer.")  # fmt: skip
        if tries > 4:
            return f"It made {tries} attempts with max_retries=3: count them, and stop."
        return None
    if tries > 1:
        return f"It retried {label}: that request fails the same way every time — fix it instead of retrying."
    if outcome.error is None:
        return f"After {label} it returned {describe(outcome.value)}: let the error reach the caller (raise it)."
    if expected not in _chain(outcome.error):
        return f"After {label} it raised {type(outcome.error).__name__}; let the SDK's own exception through."
    if waits:
        return f"It waited {waits[0]:g} s before giving up on {label}: fail at once."
    return None


def check_safe_api_call(safe_api_call: Callable[..., Any]) -> Verdict:
    """``safe_api_call(client, messages, max_retries=3)`` retries only what can succeed later, and gives up.

    Accepts the course text's rule written with any mix of the SDK's exception classes, with or
    without jitter and ``retry-after``; ``max_retries`` may count attempts or retries.
    """
    for label, script, expected in SCENARIOS:
        if (problem := _scenario(safe_api_call, label, script, expected)) is not None:
            return _hint(problem)
    try:
        source = inspect.getsource(safe_api_call)
    except (OSError, TypeError):
        source = "except"
    if "except" not in source:
        return _hint("It works, but not by itself: write the except clauses, catching the SDK's exception classes.")
    return _ok(
        "Retried 429, 529, 5xx and a dropped connection, waiting in between; raised 400 and 401 at once; gave up."
    )
