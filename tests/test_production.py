"""The production-practice helpers of lesson 09: retries, costs, caching, logging, batching,
timeouts, stream timing and the executable checklist. All offline."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import time
from types import SimpleNamespace as NS

import pytest

from apicourse import batching, caching, call_log, checklist, costs, retries, stream_timing, timeouts

# --- retries -------------------------------------------------------------------------------------


def scripted(*outcomes):
    """A function that raises or returns the outcomes in order, counting its calls."""
    queue = list(outcomes)

    def fn():
        fn.calls += 1
        outcome = queue.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    fn.calls = 0
    return fn


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_retries_rate_limits_and_server_errors(provider, status):
    fn = scripted(retries.status_error(provider, status), "done")
    assert retries.retry_policy(sleep=lambda s: None)(fn) == "done"
    assert fn.calls == 2


def test_retries_anthropic_overloaded_529():
    fn = scripted(retries.status_error("anthropic", 529), "done")
    assert retries.retry_policy(sleep=lambda s: None)(fn) == "done"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_never_retries_other_client_errors(status):
    error = retries.status_error("openai", status)
    fn = scripted(error, "never reached")
    with pytest.raises(type(error)):
        retries.retry_policy(sleep=lambda s: None)(fn)
    assert fn.calls == 1


def test_retries_connection_errors():
    import httpx2
    import openai

    error = openai.APIConnectionError(request=httpx2.Request("POST", "https://api.openai.com/v1/x"))
    fn = scripted(error, "done")
    assert retries.retry_policy(sleep=lambda s: None)(fn) == "done"


def test_gives_up_after_max_attempts_with_the_last_error():
    fn = scripted(*[retries.status_error("openai", 503)] * 3)
    with pytest.raises(Exception) as info:
        retries.retry_policy(max_attempts=3, sleep=lambda s: None)(fn)
    assert retries.status_of(info.value) == 503 and fn.calls == 3


def test_backoff_grows_and_honours_retry_after(caplog):
    waits: list[float] = []
    fn = scripted(
        retries.status_error("openai", 429, headers={"retry-after": "7"}),
        retries.status_error("openai", 503),
        retries.status_error("openai", 503),
        "done",
    )
    with caplog.at_level(logging.WARNING, logger="apicourse.retries"):
        retries.retry_policy(base=1.0, max_wait=30, sleep=waits.append)(fn)
    assert waits[0] == 7.0  # the server said how long
    assert 0 <= waits[1] <= 2 and 0 <= waits[2] <= 4  # jittered 2^n
    assert "RateLimitError 429" in caplog.text


# --- costs ---------------------------------------------------------------------------------------


def test_cost_from_a_chat_completion_usage():
    response = NS(model="gpt-4o-2024-08-06", usage=NS(prompt_tokens=1_000_000, completion_tokens=0))
    assert costs.estimate_cost(response.model, costs.usage_of(response)) == costs.PRICES["gpt-4o"].input


def test_anthropic_cache_tokens_count_as_input():
    usage = costs.usage_of(
        NS(
            usage=NS(
                input_tokens=10, output_tokens=5, cache_read_input_tokens=90, cache_creation_input_tokens=None
            )
        )
    )
    assert usage == costs.Usage(100, 5)


def test_every_default_model_has_a_dated_price_with_its_source():
    import datetime

    from apicourse import models

    datetime.date.fromisoformat(costs.PRICES_AS_OF)
    for setting in models.SETTINGS:
        if setting.provider in ("openai", "anthropic"):
            price = costs.price_for(setting.default)
            assert price is not None, f"no price for the default {setting.default}"
            assert price.as_of == costs.PRICES_AS_OF and price.source, setting.default


def test_costs_are_printed_for_people():
    usage = costs.Usage(input_tokens=33, output_tokens=0)  # 33 tokens at $2.50 per million: $0.0000825
    assert costs.format_cost(costs.estimate_cost("gpt-4o", usage)) == "$0.000083"
    assert costs.format_cost(12.3456) == "$12.35"


def test_unknown_model_has_no_price():
    assert costs.estimate_cost("my-own-model", costs.Usage(10, 10)) is None


# --- caching -------------------------------------------------------------------------------------


def test_cache_answers_the_same_request_once_and_different_ones_apart():
    calls = []

    def create(**request):
        calls.append(request)
        return len(calls)

    cache = caching.ResponseCache()
    a = cache.call(create, model="m", messages=[{"role": "user", "content": "a"}], temperature=0)
    again = cache.call(create, temperature=0, messages=[{"role": "user", "content": "a"}], model="m")
    b = cache.call(create, model="m", messages=[{"role": "user", "content": "b"}], temperature=0)
    assert (a, again, b) == (1, 1, 2) and len(calls) == 2
    assert (cache.hits, cache.misses) == (1, 2)


def test_cache_is_bounded():
    cache = caching.ResponseCache(max_entries=2)
    for i in range(5):
        cache.call(lambda **kw: kw["i"], i=i)
    assert len(cache) == 2


# --- call log ------------------------------------------------------------------------------------


def test_call_log_records_latency_tokens_cost_and_logs(caplog):
    log = call_log.CallLog()

    def create(**request):
        time.sleep(0.01)
        return NS(model="claude-sonnet-4-20250514", usage=NS(input_tokens=100, output_tokens=50))

    with caplog.at_level(logging.INFO, logger="apicourse.calls"):
        log.track(create, model="claude-sonnet-4-20250514", messages=[])
    record = log.records[0]
    assert record.seconds >= 0.01 and record.usage == costs.Usage(100, 50)
    assert record.cost == pytest.approx((100 * 3 + 50 * 15) / 1e6)
    assert "latency_ms=" in caplog.text and "input_tokens=100" in caplog.text
    assert "<table>" in log._repr_html_()


def test_call_log_keeps_failures_and_reraises():
    log = call_log.CallLog()
    with pytest.raises(RuntimeError):
        log.track(scripted(RuntimeError("boom")).__call__)
    assert log.records[0].error == "RuntimeError"


# --- batching ------------------------------------------------------------------------------------


def test_gather_limited_never_exceeds_the_limit_and_keeps_order():
    async def work(i):
        await asyncio.sleep(0.01 * (5 - i % 5))
        return i

    batch = asyncio.run(batching.gather_limited([work(i) for i in range(12)], limit=3, progress=False))
    assert batch.results == list(range(12))
    assert batch.max_in_flight == 3


def test_gather_limited_is_faster_than_one_by_one():
    async def work(i):
        await asyncio.sleep(0.05)
        return i

    batch = asyncio.run(batching.gather_limited([work(i) for i in range(8)], limit=4, progress=False))
    assert batch.seconds < 8 * 0.05 * 0.75  # 2 waves of 4, not 8 sequential waits


def test_gather_limited_can_keep_going_after_a_failure():
    async def work(i):
        if i == 1:
            raise ValueError("bad item")
        return i

    batch = asyncio.run(
        batching.gather_limited([work(i) for i in range(3)], limit=2, progress=False, return_exceptions=True)
    )
    assert batch.results[0] == 0 and batch.results[2] == 2 and len(batch.errors) == 1


# --- timeouts ------------------------------------------------------------------------------------


def test_a_client_with_a_timeout_gives_up_on_a_silent_server():
    import openai

    with timeouts.silent_server() as url:
        client = openai.OpenAI(api_key="placeholder", base_url=url + "/v1", timeout=0.3, max_retries=0)
        start = time.perf_counter()
        with pytest.raises(openai.APITimeoutError):
            client.models.list()
        assert time.perf_counter() - start < 3
    assert timeouts.timeout_seconds(client) == 0.3


# --- stream timing -------------------------------------------------------------------------------


def test_stream_timer_sees_first_text_before_the_end():
    def slow_pieces():
        for piece in ["a", "b", "c"]:
            time.sleep(0.02)
            yield piece

    timer = stream_timing.StreamTimer()
    assert "".join(timer.wrap(slow_pieces())) == "abc"
    assert 0.015 < timer.first_token_s < timer.total_s
    assert timer.pieces == 3


# --- checklist -----------------------------------------------------------------------------------


def write_notebook(path, *sources):
    cells = [
        {"cell_type": "code", "source": s, "metadata": {}, "outputs": [], "execution_count": None}
        for s in sources
    ]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


def test_checklist_finds_a_hard_coded_key_and_a_missing_max_tokens(tmp_path):
    (tmp_path / "notebooks").mkdir()
    fake_key = "sk-" + "x1" * 20
    write_notebook(
        tmp_path / "notebooks" / "01_x.ipynb",
        f"client = OpenAI(api_key='{fake_key}', timeout=20)",
        "client.chat.completions.create(model=m, messages=msgs)",
    )
    report = checklist.run_checklist(root=tmp_path)
    failed = {item.text: item.detail for item in report.failed}
    assert "01_x: sk-x1x…" in failed["Store API keys in environment variables, never in code"]
    assert fake_key not in str(report)
    assert "01_x cell 2" in failed["Monitor token usage and set max_tokens to avoid runaway costs"]


def test_checklist_flags_slow_clients_and_untimed_constructors(tmp_path):
    import openai

    (tmp_path / "notebooks").mkdir()
    write_notebook(tmp_path / "notebooks" / "01_x.ipynb", "client = Anthropic()")
    report = checklist.run_checklist(root=tmp_path, clients=[openai.OpenAI(api_key="placeholder")])
    detail = {i.text: i.detail for i in report.failed}["Set reasonable timeouts on all API requests"]
    assert "OpenAI waits 600" in detail and "01_x cell 1: Anthropic" in detail


def test_checklist_checks_gitignore(tmp_path):
    (tmp_path / "notebooks").mkdir()
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    status = {i.text: i.status for i in checklist.run_checklist(root=tmp_path).items}
    assert status["Add .env to your .gitignore file"] == "fail"
    (tmp_path / ".gitignore").write_text(".env\n")
    status = {i.text: i.status for i in checklist.run_checklist(root=tmp_path).items}
    assert status["Add .env to your .gitignore file"] == "pass"


def test_the_course_itself_passes_its_checks():
    report = checklist.run_checklist()
    assert report.failed == [], str(report)
