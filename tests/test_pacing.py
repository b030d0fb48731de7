"""Replayed streams arrive event by event (so a streaming cell shows text appearing), sync and async;
APICOURSE_STREAM_DELAY=0 delivers them at once. Lower bounds only: sleeping guarantees a minimum."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import anthropic
import openai
import pytest
from test_live_mode import _clean_env

import apicourse
from apicourse import recording, replay
from apicourse.standin import StandIn

SONNET = "claude-sonnet-4-6"  # a current model (the stand-in refuses retired ids, as Anthropic does)
PROMPT = [{"role": "user", "content": "Say hello"}]


@pytest.fixture()
def cassette_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    _clean_env(monkeypatch, tmp_path)
    folder = tmp_path / "cassettes"
    with StandIn() as standin:
        monkeypatch.setenv(replay.STANDIN_VAR, standin.url)
        with recording.recorder(folder / "zz_pace.yaml"):
            client = anthropic.Anthropic(api_key="sk-ant-test", http_client=standin.http_client())
            with client.messages.stream(model=SONNET, max_tokens=50, messages=PROMPT) as stream:
                stream.get_final_message()
            oai = openai.OpenAI(api_key="sk-test", http_client=standin.http_client())
            list(oai.chat.completions.create(model="gpt-4o", messages=PROMPT, stream=True))
        monkeypatch.delenv(replay.STANDIN_VAR)
    monkeypatch.setenv(replay.CASSETTE_DIR_VAR, str(folder))
    return folder


def _arrivals_sync() -> list[float]:
    started, times = time.perf_counter(), []
    with anthropic.Anthropic().messages.stream(model=SONNET, max_tokens=50, messages=PROMPT) as stream:
        for _ in stream.text_stream:
            times.append(time.perf_counter() - started)
    return times


def test_replayed_streams_arrive_over_time(cassette_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APICOURSE_STREAM_DELAY", "0.02")
    course = apicourse.start("zz_pace", quiet=True)
    try:
        times = _arrivals_sync()
        assert len(times) >= 5
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert min(gaps) >= 0.015, gaps  # each text delta waited for its turn

        async def chunks() -> list[float]:
            started, seen = time.perf_counter(), []
            stream = await openai.AsyncOpenAI().chat.completions.create(
                model="gpt-4o", messages=PROMPT, stream=True
            )
            async for _ in stream:
                seen.append(time.perf_counter() - started)
            return seen

        seen = asyncio.run(chunks())
        assert seen[-1] - seen[0] >= 0.015 * (len(seen) - 1)
    finally:
        course.stop()


def test_zero_delay_delivers_at_once(cassette_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from apicourse import pacing

    sleeps: list[float] = []
    monkeypatch.setattr(pacing, "_sleep", sleeps.append)
    monkeypatch.setenv("APICOURSE_STREAM_DELAY", "0")
    course = apicourse.start("zz_pace", quiet=True)
    try:
        assert len(_arrivals_sync()) >= 5 and sleeps == []
        monkeypatch.setenv("APICOURSE_STREAM_DELAY", "0.01")
        assert len(_arrivals_sync()) >= 5 and sleeps and set(sleeps) == {0.01}
    finally:
        course.stop()
