"""Which API errors deserve a retry, and a retry policy built on tenacity.

The rule the course teaches (the seed's ``safe_api_call``): retry **429** (rate limited), **5xx**
(including Anthropic's 529 "overloaded") and **connection errors / timeouts**; never retry any
other 4xx — a bad request stays bad, however often you send it.

    >>> policy = retry_policy(max_attempts=3, sleep=lambda seconds: None)
    >>> attempts = iter([status_error("anthropic", 429), status_error("anthropic", 529), "ok"])
    >>> def flaky():
    ...     outcome = next(attempts)
    ...     if isinstance(outcome, Exception):
    ...         raise outcome
    ...     return outcome
    >>> policy(flaky)
    'ok'
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Literal

import tenacity

from apicourse.backoff import retry_after_seconds

logger = logging.getLogger("apicourse.retries")

RETRYABLE_STATUS = frozenset({408, 409, 429})
"""4xx codes worth a retry: 408 request timeout, 409 conflict (OpenAI/Anthropic retry it too), 429."""


def status_of(error: BaseException) -> int | None:
    """The HTTP status carried by an SDK or ``requests`` error, if any.

    >>> status_of(status_error("openai", 404))
    404
    >>> status_of(ValueError("x")) is None
    True
    """
    status = getattr(error, "status_code", None)
    if status is None:
        response = getattr(error, "response", None)
        status = getattr(response, "status_code", None)
    return int(status) if isinstance(status, int) else None


def is_retryable(error: BaseException) -> bool:
    """True for errors a retry can cure: 429, 408/409, 5xx, 529, timeouts, connection errors.

    >>> [is_retryable(status_error("openai", s)) for s in (400, 401, 404, 429, 500, 503)]
    [False, False, False, True, True, True]
    >>> is_retryable(status_error("anthropic", 529))
    True
    """
    status = status_of(error)
    if status is not None:
        return status in RETRYABLE_STATUS or status >= 500
    names = {cls.__name__ for cls in type(error).__mro__}
    connection_like = {"APIConnectionError", "APITimeoutError", "ConnectionError", "Timeout", "TimeoutError"}
    return bool(names & connection_like)


def _wait_seconds(state: tenacity.RetryCallState, base: float, max_wait: float) -> float:
    """Exponential backoff with jitter — unless the server said how long (``retry-after``, lesson 04)."""
    error = state.outcome.exception() if state.outcome else None
    headers = getattr(getattr(error, "response", None), "headers", None)
    told = retry_after_seconds(headers) if headers is not None else None
    if told is not None:
        return min(told, max_wait)
    return float(tenacity.wait_random_exponential(multiplier=base, max=max_wait)(state))


def retry_policy(
    max_attempts: int = 4,
    *,
    base: float = 1.0,
    max_wait: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> tenacity.Retrying:
    """A tenacity ``Retrying``: call it with a function (``policy(fn, *args)``) or use it as a decorator.

    Retries only what :func:`is_retryable` allows, waits ``base·2ⁿ`` seconds with jitter (or what
    ``retry-after`` says), logs each wait at WARNING, and re-raises the last error when it gives up.
    """

    def log_wait(state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        logger.warning(
            "attempt %d failed (%s); retrying in %s", state.attempt_number, describe(error), for_people(wait)
        )

    return tenacity.Retrying(
        retry=tenacity.retry_if_exception(is_retryable),
        stop=tenacity.stop_after_attempt(max_attempts),
        wait=lambda state: _wait_seconds(state, base, max_wait),
        before_sleep=log_wait,
        sleep=sleep,
        reraise=True,
    )


def for_people(seconds: float) -> str:
    """A wait as a person reads it: milliseconds under a second (a jittered wait is often a few dozen).

    >>> for_people(0.0372), for_people(2.5), for_people(0.0004)
    ('37 ms', '2.5 s', '0.4 ms')
    """
    if seconds >= 1:
        return f"{seconds:.1f} s"
    millis = seconds * 1000
    return f"{millis:.0f} ms" if millis >= 1 else f"{millis:.1f} ms"


def describe(error: BaseException | None) -> str:
    """``RateLimitError 429`` — short enough for a log line.

    >>> describe(status_error("openai", 503))
    'InternalServerError 503'
    """
    if error is None:
        return "no error"
    status = status_of(error)
    return f"{type(error).__name__} {status}" if status else type(error).__name__


def status_error(
    provider: Literal["openai", "anthropic", "huggingface"],
    status: int,
    message: str = "simulated",
    *,
    headers: dict[str, str] | None = None,
) -> Exception:
    """Build the exact exception the SDK raises for ``status`` — without any network — for demos and tests.

    The response is made up (its body carries ``message`` in the provider's error format); the
    exception class is the SDK's own choice for that status.

    >>> type(status_error("anthropic", 429)).__name__
    'RateLimitError'
    >>> type(status_error("openai", 400)).__name__
    'BadRequestError'
    >>> type(status_error("huggingface", 503)).__name__
    'HfHubHTTPError'
    """
    import httpx2

    url = {
        "openai": "https://api.openai.com/v1/chat/completions",
        "anthropic": "https://api.anthropic.com/v1/messages",
        "huggingface": "https://router.huggingface.co/v1/chat/completions",
    }[provider]
    body: dict[str, Any] = {
        "openai": {"error": {"message": message, "type": "simulated", "param": None, "code": None}},
        "anthropic": {"type": "error", "error": {"type": "simulated", "message": message}},
        "huggingface": {"error": message},
    }[provider]
    request = httpx2.Request("POST", url)
    response = httpx2.Response(status, json=body, headers=headers or {}, request=request)
    if provider == "huggingface":
        from huggingface_hub.errors import HfHubHTTPError
        from huggingface_hub.utils import hf_raise_for_status

        try:
            hf_raise_for_status(response)  # the library's own status → exception mapping
        except HfHubHTTPError as error:
            return error
        raise ValueError(f"{status} is not an error status")
    if provider == "openai":
        import openai

        client: Any = openai.OpenAI(api_key="placeholder-for-a-simulated-error", max_retries=0)
    else:
        import anthropic

        client = anthropic.Anthropic(api_key="placeholder-for-a-simulated-error", max_retries=0)
    try:
        return client._make_status_error_from_response(response)  # the SDK's own status → class mapping
    finally:
        client.close()


SIMULATED_ANSWER = "(a simulated answer: no model was asked)"
ANTHROPIC_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error",
                         500: "api_error", 503: "api_error", 529: "overloaded_error"}  # fmt: skip
"""Anthropic's error ``type`` per status (its "Errors" documentation)."""


def scripted_anthropic(*script: int | str) -> Any:
    """An ``anthropic.Anthropic`` client that sends nothing: its transport answers each request with the next
    step of ``script`` — a status (in Anthropic's error JSON), ``200`` (a short simulated message) or ``"drop"``
    (the connection drops) — then 200 once the script is used up. The SDK's own retries are off, and neither
    replay nor recording sees these requests.

    >>> client = scripted_anthropic(529)
    >>> client.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": "Hi"}])
    Traceback (most recent call last):
    ...
    anthropic.OverloadedError: Error code: 529 - {'type': 'error', 'error': {'type': 'overloaded_error', ...
    """
    import anthropic
    import httpx2

    steps = list(script)

    def answer(request: Any) -> Any:
        step = steps.pop(0) if steps else 200
        if step == "drop":
            raise httpx2.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        if step == 200:
            message = {"id": "msg_simulated", "type": "message", "role": "assistant", "model": "simulated",
                       "content": [{"type": "text", "text": SIMULATED_ANSWER}], "stop_reason": "end_turn",
                       "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 9}}  # fmt: skip
            return httpx2.Response(200, json=message)
        kind = ANTHROPIC_ERROR_TYPES.get(int(step), "api_error")
        body = {"type": "error", "error": {"type": kind, "message": f"simulated {step}"}}
        return httpx2.Response(int(step), json=body)

    class Scripted(httpx2.BaseTransport):  # not httpx2.MockTransport: vcrpy records and replays that one
        def handle_request(self, request: Any) -> Any:
            request.read()
            return answer(request)

    return anthropic.Anthropic(api_key="simulated", http_client=httpx2.Client(transport=Scripted()), max_retries=0)
