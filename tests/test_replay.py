"""The replay layer: which provider is live, what replay sets up, and what a learner sees when a recording is missing."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import apicourse
from apicourse import replay
from apicourse.replay import MissingRecording, Mode, find_missing_recording


@pytest.fixture
def cassette_dir(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "cassettes"
    folder.mkdir()
    monkeypatch.setenv(replay.CASSETTE_DIR_VAR, str(folder))
    yield folder
    if replay.current() is not None:
        replay.current().stop()


def test_no_keys_means_every_provider_replays():
    assert set(replay.provider_modes({}).values()) == {Mode.REPLAY}


def test_one_key_makes_only_that_provider_live():
    modes = replay.provider_modes({"OPENAI_API_KEY": "sk-learner"})
    assert modes == {"openai": Mode.LIVE, "anthropic": Mode.REPLAY, "huggingface": Mode.REPLAY}


def test_force_replay_wins_over_keys():
    env = {"OPENAI_API_KEY": "k", "ANTHROPIC_API_KEY": "k", "HF_TOKEN": "hf_k", "APICOURSE_FORCE_REPLAY": "1"}
    assert set(replay.provider_modes(env).values()) == {Mode.REPLAY}


def test_placeholder_or_empty_key_is_not_a_key():
    env = {"OPENAI_API_KEY": "sk-replay-placeholder", "ANTHROPIC_API_KEY": "  "}
    assert replay.provider_modes(env)["openai"] is Mode.REPLAY
    assert replay.provider_modes(env)["anthropic"] is Mode.REPLAY


def test_key_in_dotenv_makes_provider_live(tmp_path: Path, cassette_dir: Path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("ANTHROPIC_API_KEY=sk-ant-from-dotenv\n")
    monkeypatch.setenv("APICOURSE_ENV_FILE", str(env_file))
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    course = apicourse.start("01_demo", quiet=True)
    assert course.is_live("anthropic")
    assert not course.is_live("openai")
    assert os.environ["ANTHROPIC_API_KEY"] == "sk-ant-from-dotenv"


def test_environment_wins_over_dotenv(tmp_path: Path, cassette_dir: Path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("APICOURSE_FORCE_REPLAY=0\nOPENAI_API_KEY=sk-from-file\n")
    monkeypatch.setenv("APICOURSE_ENV_FILE", str(env_file))
    monkeypatch.setenv("APICOURSE_FORCE_REPLAY", "1")
    course = apicourse.start("01_demo", quiet=True)
    assert course.mode("openai") is Mode.REPLAY


def test_placeholder_keys_only_for_replayed_providers(cassette_dir: Path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-learners-own")
    apicourse.start("01_demo", quiet=True)
    assert os.environ["OPENAI_API_KEY"] == "sk-learners-own"
    assert os.environ["ANTHROPIC_API_KEY"] == "sk-ant-replay-placeholder"
    assert os.environ["HF_TOKEN"].startswith("hf_"), "huggingface_hub routes on the hf_ prefix"
    assert os.environ["HF_HUB_DISABLE_TELEMETRY"] == "1"


def test_banner_names_each_mode_and_never_shows_a_key(cassette_dir: Path, monkeypatch):
    secret = "sk-learners-own-" + "x" * 20
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    course = apicourse.start("05_openai", quiet=True)
    text, html = str(course), course._repr_html_()
    assert "OpenAI       live" in text and "Anthropic    replay" in text and "Hugging Face replay" in text
    assert "apicourse-live" in html and "apicourse-replay" in html
    for shown in (text, html):
        assert secret not in shown and secret[-6:] not in shown


def test_live_only_session_uses_no_cassette(cassette_dir: Path, monkeypatch):
    for var, value in (("OPENAI_API_KEY", "a"), ("ANTHROPIC_API_KEY", "b"), ("HF_TOKEN", "hf_c")):
        monkeypatch.setenv(var, value)
    course = apicourse.start("05_openai", quiet=True)
    assert course._cassette is None


def test_live_provider_hosts_bypass_the_cassette(cassette_dir: Path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-learners-own")
    course = apicourse.start("05_openai", quiet=True)
    from vcr.request import Request

    assert course._cassette._before_record_request(Request("POST", "https://api.openai.com/v1/x", b"", {})) is None
    kept = course._cassette._before_record_request(Request("POST", "https://api.anthropic.com/v1/x", b"", {}))
    assert kept is not None


def test_missing_recording_names_notebook_cassette_request_and_fixes(cassette_dir: Path, monkeypatch):
    import openai

    monkeypatch.setenv("APICOURSE_STRICT_REPLAY", "1")  # else the offline stand-in answers (test_sandbox.py)
    apicourse.start("05_openai", quiet=True)
    client = openai.OpenAI()
    with pytest.raises(MissingRecording) as caught:
        client.models.list()
    message = str(caught.value)
    assert "No recording for GET https://api.openai.com/v1/models" in message
    assert "notebook: 05_openai" in message
    assert "05_openai.yaml" in message
    assert "OPENAI_API_KEY" in message and "python -m apicourse.record notebooks/05_openai.ipynb" in message
    assert "APICOURSE_STRICT_REPLAY is set" in message


def test_anthropic_wrapping_keeps_the_message_and_does_not_wait(cassette_dir: Path, monkeypatch):
    import anthropic

    monkeypatch.setenv("APICOURSE_STRICT_REPLAY", "1")
    apicourse.start("06_anthropic", quiet=True)
    client = anthropic.Anthropic()
    began = time.perf_counter()
    with pytest.raises(anthropic.APIConnectionError) as caught:
        client.messages.create(model="claude-sonnet-4-6", max_tokens=5, messages=[{"role": "user", "content": "hi"}])
    assert time.perf_counter() - began < 2, "replay must not sleep through SDK retries"
    missing = find_missing_recording(caught.value)
    assert missing is not None
    assert "POST https://api.anthropic.com/v1/messages" in str(missing)
    assert "ANTHROPIC_API_KEY" in str(missing)


def test_replay_answers_from_the_cassette(cassette_dir: Path):
    import openai

    (cassette_dir / "05_openai.yaml").write_text(
        """interactions:
- request:
    body: ''
    headers: {}
    method: GET
    uri: https://api.openai.com/v1/models
  response:
    status: {code: 200, message: OK}
    headers:
      content-type: [application/json]
    body:
      string: '{"object": "list", "data": [{"id": "gpt-4o", "object": "model", "created": 1, "owned_by": "system"}]}'
version: 1
"""
    )
    apicourse.start("05_openai", quiet=True)
    client = openai.OpenAI()
    assert [m.id for m in client.models.list()] == ["gpt-4o"]
    assert [m.id for m in client.models.list()] == ["gpt-4o"], "re-running a cell replays again"


def test_outside_host_in_replay_never_goes_out(cassette_dir: Path):
    import requests

    apicourse.start("02_json", quiet=True)
    with pytest.raises(MissingRecording) as caught:
        requests.get("https://example.com/data.json", timeout=5)
    assert "not one of the course's providers" in str(caught.value)


def test_stand_in_urls_round_trip():
    url = "https://router.huggingface.co/hf-inference/models/x/y?a=1"
    there = replay.provider_to_standin_url(url, "http://127.0.0.1:9")
    assert there == "http://127.0.0.1:9/router.huggingface.co/hf-inference/models/x/y?a=1"
    assert replay.standin_to_provider_url(there, "http://127.0.0.1:9") == url


def test_scrubbing_drops_secret_headers_and_retried_failures():
    from vcr.request import Request

    request = Request("POST", "https://api.openai.com/v1/x", b"{}", {"Authorization": "Bearer t", "X-Api-Key": "k", "accept": "j"})
    scrubbed = replay.scrub_request(request)
    assert set(h.lower() for h in scrubbed.headers) == {"accept"}
    assert replay.scrub_response({"status": {"code": 429}, "headers": {}}) is None
    assert replay.scrub_response({"status": {"code": 529}, "headers": {}}) is None
    kept = replay.scrub_response({"status": {"code": 200}, "headers": {"set-cookie": ["a"], "x-request-id": ["r"]}})
    assert kept["headers"] == {"x-request-id": ["r"]}
