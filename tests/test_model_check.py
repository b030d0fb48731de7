"""``python -m apicourse.models --check``: current defaults pass, a retired or doomed model fails with its fix,
and with a key the provider's own list is consulted (through the SDK, over a simulated transport)."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from datetime import date

import httpx2
import pytest

from apicourse import costs, model_check, models, paths

TODAY = date(2026, 12, 2)


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    base = {k: v for k, v in os.environ.items() if not k.startswith("APICOURSE_") and not k.endswith("_API_KEY")}
    base["APICOURSE_ENV_FILE"] = os.devnull
    return subprocess.run(
        [sys.executable, "-m", "apicourse.models", *args], capture_output=True, text=True, cwd=paths.ROOT,
        env={**base, **(env or {})}, timeout=120,
    )  # fmt: skip


def test_every_default_is_current_dated_and_sourced():
    report = model_check.run({}, today=date.today(), offline=True)
    assert report.ok, report.text()
    for setting in models.SETTINGS:
        if setting.provider in ("openai", "anthropic"):
            date.fromisoformat(setting.checked)
            assert setting.source, setting.name
            assert setting.default in model_check.sdk_model_ids(setting.provider)


def test_the_command_passes_offline_and_names_each_model():
    done = cli("--check", "--offline")
    assert done.returncode == 0, done.stdout + done.stderr
    for setting in models.SETTINGS[:4]:
        assert f"{setting.env_var} = {setting.default}" in done.stdout


def test_a_retired_override_fails_with_the_fix_in_one_sentence():
    done = cli("--check", "--offline", env={"APICOURSE_ANTHROPIC_MODEL": "claude-sonnet-4-20250514"})
    assert done.returncode == 1
    problem = next(line for line in done.stdout.splitlines() if line.startswith("✗"))
    assert problem == (
        "✗ APICOURSE_ANTHROPIC_MODEL is claude-sonnet-4-20250514, which Anthropic retired on 2026-06-15: "
        "set APICOURSE_ANTHROPIC_MODEL=claude-sonnet-4-6 in .env and restart the kernel."
    )


def test_a_model_announced_for_shutdown_fails_before_it_happens_and_after():
    env = {"APICOURSE_OPENAI_MODEL": "gpt-4o"}
    before = model_check.run(env, today=TODAY, offline=True)
    assert before.problems == [
        "APICOURSE_OPENAI_MODEL is gpt-4o, which OpenAI will shut down on 2027-01-14: "
        "set APICOURSE_OPENAI_MODEL=gpt-6-luna in .env and restart the kernel before then."
    ]
    after = cli("--check", "--offline", "--today", "2027-01-15", env=env)
    assert after.returncode == 1 and "which OpenAI retired on 2027-01-14" in after.stdout


def test_a_retired_default_tells_maintainers_too(monkeypatch):
    doomed = models.ModelSetting("openai", "APICOURSE_OPENAI_MODEL", "gpt-5", "chat", "openai", "2025-08-01", "x")
    monkeypatch.setattr(models, "SETTINGS", (doomed,))
    (problem,) = model_check.run({}, today=TODAY, offline=True).problems
    assert "which OpenAI will shut down on 2026-12-11" in problem
    assert "set APICOURSE_OPENAI_MODEL=gpt-6.1-sol in .env" in problem
    assert "change the default in apicourse/models.py" in problem


def test_an_unknown_id_is_caught_offline():
    report = model_check.run({"APICOURSE_OPENAI_SMALL_MODEL": "gpt-6.1-tera"}, today=TODAY, offline=True)
    pinned = importlib.metadata.version("openai")
    assert report.problems == [
        f"APICOURSE_OPENAI_SMALL_MODEL is gpt-6.1-tera, which the course's pinned openai {pinned} SDK does not know: "
        "check its spelling in .env, or run this check with OPENAI_API_KEY set to confirm a model newer than the SDK."
    ]


def test_the_sdk_notes_agree_with_the_course_table():
    notes = model_check.sdk_shutdowns()
    assert notes["gpt-5"].on == date(2026, 12, 11) and notes["claude-sonnet-4-5"].on == date(2026, 11, 30)
    for row in models.RETIREMENTS:
        if row.model in notes:
            assert notes[row.model].on == row.shutdown, row.model


def test_every_default_has_a_price():
    for setting in models.SETTINGS[:4]:
        assert costs.price_for(setting.default) is not None


# --- with a key: the provider's list, through the SDK, over a simulated transport -----------------------


def provider(openai_ids: dict[str, str | None], claude: dict[str, tuple[str, str | None]]):
    """A transport answering GET /v1/models like OpenAI and Anthropic; it records what was asked."""
    asked: list[str] = []

    def handle(request: httpx2.Request) -> httpx2.Response:
        asked.append(f"{request.url.host}{request.url.path}")
        if request.url.host == "api.openai.com":
            data = [{"id": i, "object": "model", "created": 1, "owned_by": "system", "shutdown_date": d}
                    for i, d in openai_ids.items()]  # fmt: skip
            return httpx2.Response(200, json={"object": "list", "data": data})
        data = [{"id": i, "type": "model", "display_name": i, "created_at": "2026-09-28T00:00:00Z",
                 "lifecycle": life, "retires_at": retires} for i, (life, retires) in claude.items()]  # fmt: skip
        body = {"data": data, "has_more": False, "first_id": None, "last_id": None}
        return httpx2.Response(200, content=json.dumps(body), headers={"content-type": "application/json"})

    return httpx2.Client(transport=httpx2.MockTransport(handle)), asked


KEYS = {"OPENAI_API_KEY": "sk-test", "ANTHROPIC_API_KEY": "sk-ant-test"}


def test_with_keys_configured_models_missing_or_dated_are_reported():
    client, asked = provider(
        {"gpt-6.1-terra": "2027-06-01", "gpt-4o": None},
        {"claude-sonnet-5-5": ("active", None), "claude-haiku-5-5": ("deprecated", "2027-03-01T00:00:00Z")},
    )
    report = model_check.run(KEYS, today=TODAY, http_client=client)
    assert sorted(asked) == ["api.anthropic.com/v1/models", "api.openai.com/v1/models"]
    assert report.problems == [
        "APICOURSE_OPENAI_MODEL is gpt-6.1-terra, which OpenAI lists for shutdown on 2027-06-01: "
        "set APICOURSE_OPENAI_MODEL in .env to a current OpenAI model and restart the kernel "
        "(course maintainers: change the default in apicourse/models.py) before then.",
        "APICOURSE_OPENAI_SMALL_MODEL is gpt-6-luna, which is not among the 2 models your OpenAI key can use: "
        "set APICOURSE_OPENAI_SMALL_MODEL in .env to a current OpenAI model and restart the kernel "
        "(course maintainers: change the default in apicourse/models.py).",
        "APICOURSE_ANTHROPIC_SMALL_MODEL is claude-haiku-5-5, which Anthropic lists for shutdown on 2027-03-01: "
        "set APICOURSE_ANTHROPIC_SMALL_MODEL in .env to a current Anthropic model and restart the kernel "
        "(course maintainers: change the default in apicourse/models.py) before then.",
    ]


def test_with_keys_a_model_newer_than_the_sdk_is_confirmed_live():
    client, _ = provider({"gpt-6.1-terra": None, "gpt-6-luna": None, "gpt-7-nova": None},
                         {"claude-sonnet-5-5": ("active", None), "claude-haiku-5-5": ("active", None)})  # fmt: skip
    env = {**KEYS, "APICOURSE_OPENAI_MODEL": "gpt-7-nova"}
    assert model_check.run(env, today=TODAY, http_client=client).ok
    assert not model_check.run(env, today=TODAY, offline=True).ok, "offline, an id the SDK lacks is flagged"


def test_offline_never_asks_even_with_keys():
    client, asked = provider({}, {})
    assert model_check.run(KEYS, today=TODAY, offline=True, http_client=client).ok
    assert asked == []


@pytest.mark.parametrize("status", [401, 500])
def test_a_failing_provider_falls_back_to_the_offline_check(status):
    client = httpx2.Client(transport=httpx2.MockTransport(lambda request: httpx2.Response(status, json={})))
    report = model_check.run(KEYS, today=TODAY, http_client=client)
    assert report.ok
    assert any("could not list live models" in note for note in report.notes)


def test_replay_placeholders_and_forced_replay_never_ask():
    client, asked = provider({}, {})
    placeholders = {"OPENAI_API_KEY": "sk-replay-placeholder", "ANTHROPIC_API_KEY": "sk-ant-replay-placeholder"}
    assert model_check.run(placeholders, today=TODAY, http_client=client).ok
    assert model_check.run({**KEYS, "APICOURSE_FORCE_REPLAY": "1"}, today=TODAY, http_client=client).ok
    assert asked == []


def test_the_sdk_lists_are_read_exactly_as_the_sdks_define_them():
    """The check parses the SDK files without importing them (fast); it must see what the SDKs' types say."""
    import typing

    from anthropic.types.model import Model
    from openai.types.shared.chat_model import ChatModel

    def literals(annotation) -> set[str]:
        found: set[str] = set()
        for arg in typing.get_args(annotation):
            found |= {arg} if isinstance(arg, str) else literals(arg)
        return found

    assert model_check.sdk_model_ids("openai") == literals(ChatModel)
    assert model_check.sdk_model_ids("anthropic") == literals(Model)
