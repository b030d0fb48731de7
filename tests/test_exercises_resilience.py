"""Lesson 09's check tries the learner's safe_api_call against 429, 529, 5xx, 400, 401 and a dropped connection,
simulated at the transport: the course text's rule passes in several styles, the usual mistakes do not."""

from __future__ import annotations

import random
import time
from time import sleep

import anthropic
import pytest
import tenacity

from apicourse import exercises as ex
from apicourse.exercises import resilience


def _create(client, messages):
    return client.messages.create(model="claude-sonnet-4-6", max_tokens=300, messages=messages)


def course_text(client, messages, model="claude-sonnet-4-6", max_retries=3):
    """The course text's safe_api_call, with the client as a parameter."""
    for attempt in range(max_retries):
        try:
            response = client.messages.create(model=model, max_tokens=1024, messages=messages)
            return response.content[0].text
        except anthropic.RateLimitError:
            time.sleep(2**attempt)
        except anthropic.APIConnectionError:
            time.sleep(2**attempt)
        except anthropic.BadRequestError:
            raise
        except anthropic.APIStatusError as e:
            if e.status_code >= 500:
                time.sleep(2**attempt)
            else:
                raise
    raise Exception(f"Failed after {max_retries} retries")


def jittered_tuple(client, messages, max_retries=3):
    retryable = (anthropic.RateLimitError, anthropic.InternalServerError, anthropic.APIConnectionError)
    for attempt in range(max_retries + 1):  # max_retries counts retries, not attempts
        try:
            reply = _create(client, messages)
            return "".join(b.text for b in reply.content if b.type == "text")
        except retryable as error:
            if attempt == max_retries:
                raise
            after = getattr(getattr(error, "response", None), "headers", {}).get("retry-after")
            sleep(float(after) if after else random.uniform(0, 2**attempt))


def status_codes(client, messages, max_retries=3):
    last = None
    for attempt in range(max_retries):
        try:
            return _create(client, messages)  # the Message itself is accepted too
        except anthropic.APIConnectionError as error:
            last = error
        except anthropic.APIStatusError as error:
            if error.status_code != 429 and error.status_code < 500:
                raise
            last = error
        time.sleep(0.5 * 2**attempt)
    raise RuntimeError("gave up") from last


def with_tenacity(client, messages, max_retries=3):
    retryable = (anthropic.RateLimitError, anthropic.InternalServerError, anthropic.APIConnectionError)

    @tenacity.retry(retry=tenacity.retry_if_exception_type(retryable), stop=tenacity.stop_after_attempt(max_retries),
                    wait=tenacity.wait_random_exponential(multiplier=0.5), reraise=True)  # fmt: skip
    def attempt():
        try:
            return _create(client, messages).content[0].text
        except anthropic.BadRequestError:
            raise

    return attempt()


@pytest.mark.parametrize("answer", [course_text, jittered_tuple, status_codes, with_tenacity])
def test_safe_api_call_accepts_right_answers(answer):
    started = time.monotonic()
    assert ex.check_safe_api_call(answer)
    assert time.monotonic() - started < 10  # the waits are recorded, not slept


def _blank(client, messages, max_retries=3): ...


def _retry_everything(client, messages, max_retries=3):
    for attempt in range(max_retries):
        try:
            return _create(client, messages).content[0].text
        except anthropic.APIError:
            time.sleep(2**attempt)
    raise RuntimeError("failed")


def _only_rate_limits(client, messages, max_retries=3):
    for attempt in range(max_retries):
        try:
            return _create(client, messages).content[0].text
        except anthropic.RateLimitError:
            time.sleep(2**attempt)
    raise RuntimeError("failed")


def _no_connection_errors(client, messages, max_retries=3):
    for attempt in range(max_retries):
        try:
            return _create(client, messages).content[0].text
        except anthropic.APIStatusError as error:
            if error.status_code == 429 or error.status_code >= 500:
                time.sleep(2**attempt)
                continue
            raise
    raise RuntimeError("failed")


def _no_wait(client, messages, max_retries=3):
    for _ in range(max_retries):
        try:
            return _create(client, messages).content[0].text
        except (anthropic.RateLimitError, anthropic.InternalServerError, anthropic.APIConnectionError):
            continue
    raise RuntimeError("failed")


def _swallows(client, messages, max_retries=3):
    for attempt in range(max_retries):
        try:
            return _create(client, messages).content[0].text
        except (anthropic.RateLimitError, anthropic.InternalServerError, anthropic.APIConnectionError):
            time.sleep(2**attempt)
        except anthropic.APIStatusError as error:
            print("failed:", error)
            return None
    return None


def _forever(client, messages, max_retries=3):
    attempt = 0
    while True:
        try:
            return _create(client, messages).content[0].text
        except (anthropic.RateLimitError, anthropic.InternalServerError, anthropic.APIConnectionError):
            time.sleep(min(8, 2**attempt))
            attempt += 1


def _hides_the_error(client, messages, max_retries=3):
    for attempt in range(max_retries):
        try:
            return _create(client, messages).content[0].text
        except (anthropic.RateLimitError, anthropic.InternalServerError, anthropic.APIConnectionError):
            time.sleep(2**attempt)
        except anthropic.APIStatusError:
            raise ValueError("the request failed") from None
    raise RuntimeError("failed")


def _sdk_retries_only(client, messages, max_retries=3):
    return client.with_options(max_retries=max_retries).messages.create(
        model="claude-sonnet-4-6", max_tokens=300, messages=messages
    ).content[0].text


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_blank, "sends nothing yet"),
        (_retry_everything, "It retried a 400"),
        (_only_rate_limits, "A 529 (overloaded) ended the call with OverloadedError"),
        (_no_connection_errors, "A dropped connection ended the call with APIConnectionError"),
        (_no_wait, "tried again without waiting"),
        (_swallows, "let the error reach the caller"),
        (_forever, "never gave up"),
        (_hides_the_error, "let the SDK's own exception through"),
        (_sdk_retries_only, "write the except clauses"),
    ],
)
def test_safe_api_call_rejects_wrong_answers(answer, hint):
    verdict = ex.check_safe_api_call(answer)
    assert not verdict
    assert hint in verdict.message


def test_the_simulated_failures_are_the_sdks_own():
    expected = [(429, "RateLimitError"), (529, "OverloadedError"), (503, "ServiceUnavailableError"),
                (400, "BadRequestError"), (401, "AuthenticationError"), ("drop", "APIConnectionError")]  # fmt: skip
    for status, name in expected:
        client, seen = resilience.simulated_client([status, 200])
        with pytest.raises(anthropic.APIError) as caught:
            _create(client, [{"role": "user", "content": "Hi"}])
        assert type(caught.value).__name__ == name
        assert _create(client, [{"role": "user", "content": "Hi"}]).content[0].text == resilience.ANSWER
        assert len(seen) == 2
    assert time.sleep is not None and not isinstance(time.sleep, resilience._RecordedSleep)
