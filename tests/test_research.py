"""The research assistant's chain: validation, the single re-ask, both providers' wiring (offline)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from apicourse import research, topic_picker

GOOD = {
    "title": "Tidal energy",
    "key_points": ["predictable", "dense", "costly to build"],
    "applications": ["coastal power"],
    "challenges": ["corrosion"],
    "confidence": "medium",
}


class ScriptedChat:
    """A fake model: returns the scripted replies in order and remembers every call."""

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.calls: list[dict[str, Any]] = []

    def __call__(self, messages, *, system=None, max_tokens=1024):
        self.calls.append(
            {"messages": [dict(m) for m in messages], "system": system, "max_tokens": max_tokens}
        )
        return self.replies.pop(0)


def test_valid_json_first_time_asks_twice_in_all():
    chat = ScriptedChat("A summary of tides.", json.dumps(GOOD))
    result = research.research_topic("tides", chat=chat)
    assert result.notes.title == "Tidal energy"
    assert result.attempts == 1 and result.rejected == []
    assert len(chat.calls) == 2
    assert chat.calls[0]["system"] == research.SUMMARY_SYSTEM
    assert "A summary of tides." in chat.calls[1]["messages"][0]["content"]


def test_prose_wrapped_json_is_reasked_once_with_the_problem():
    wrapped = "Here is the JSON you asked for:\n```json\n" + json.dumps(GOOD) + "\n```"
    chat = ScriptedChat("summary", wrapped, json.dumps(GOOD))
    result = research.research_topic("tides", chat=chat)
    assert result.attempts == 2
    assert result.notes.key_points == GOOD["key_points"]
    reask = chat.calls[2]["messages"]
    assert [m["role"] for m in reask] == ["user", "assistant", "user"]
    assert reask[1]["content"] == wrapped
    assert "wraps the JSON in other text" in reask[2]["content"]
    assert len(result.rejected) == 1


def test_wrong_shape_is_reported_by_field():
    bad = dict(GOOD, confidence="very high", key_points=["only one"])
    with pytest.raises(ValueError) as info:
        research.parse_notes(json.dumps(bad))
    assert "confidence" in str(info.value) and "key_points" in str(info.value)


def test_gives_up_after_one_reask():
    chat = ScriptedChat("summary", "no JSON here", "still none")
    with pytest.raises(research.ExtractionFailed) as info:
        research.research_topic("tides", chat=chat)
    assert len(info.value.replies) == 2
    assert len(chat.calls) == 3  # summary + extraction + exactly one re-ask


def test_anthropic_chat_sends_system_apart_and_joins_text_blocks():
    sent: dict[str, Any] = {}

    def create(**kwargs):
        sent.update(kwargs)
        blocks = [SimpleNamespace(type="text", text="Hello "), SimpleNamespace(type="text", text="there")]
        return SimpleNamespace(content=blocks)

    client = SimpleNamespace(messages=SimpleNamespace(create=create))
    chat = research.anthropic_chat(client, "some-model")
    assert chat([{"role": "user", "content": "hi"}], system="be brief", max_tokens=50) == "Hello there"
    assert sent["system"] == "be brief" and sent["messages"] == [{"role": "user", "content": "hi"}]
    assert sent["model"] == "some-model" and sent["max_tokens"] == 50


def test_openai_chat_puts_system_first():
    sent: dict[str, Any] = {}

    def create(**kwargs):
        sent.update(kwargs)
        return SimpleNamespace(choices=[SimpleNamespace(message=SimpleNamespace(content="ok"))])

    client = SimpleNamespace(chat=SimpleNamespace(completions=SimpleNamespace(create=create)))
    chat = research.openai_chat(client, "some-model")
    assert chat([{"role": "user", "content": "hi"}], system="be brief") == "ok"
    assert sent["messages"][0] == {"role": "system", "content": "be brief"}


def test_markdown_report_lists_every_point():
    notes = research.ResearchNotes(**GOOD)
    text = research.Research("tides", "s", notes, 1).to_markdown()
    for point in GOOD["key_points"] + GOOD["applications"] + GOOD["challenges"]:
        assert f"- {point}" in text


# --- the topic widget --------------------------------------------------------------------------


def write_cassette(path, requests):
    interactions = [
        {
            "request": {"method": "POST", "uri": uri, "body": json.dumps(body), "headers": {}},
            "response": {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": "{}"}},
        }
        for uri, body in requests
    ]
    path.write_text(yaml.safe_dump({"interactions": interactions, "version": 1}))


def summary_body(topic, openai=False):
    messages = [{"role": "user", "content": research.summary_prompt(topic)}]
    if openai:
        messages.insert(0, {"role": "system", "content": research.SUMMARY_SYSTEM})
    return {"model": "m", "max_tokens": 2048, "messages": messages}


@pytest.fixture
def cassette(tmp_path):
    path = tmp_path / "08.yaml"
    write_cassette(
        path,
        [
            ("https://api.anthropic.com/v1/messages", summary_body("tides")),
            (
                "https://api.anthropic.com/v1/messages",
                {"messages": [{"role": "user", "content": "Extract key information"}]},
            ),
            ("https://api.openai.com/v1/chat/completions", summary_body("volcanoes", openai=True)),
            ("https://api.anthropic.com/v1/messages", summary_body("volcanoes")),
            ("https://api.anthropic.com/v1/messages", summary_body("tides")),
        ],
    )
    return path


def test_recorded_topics_per_provider_in_order_without_repeats(cassette):
    assert topic_picker.recorded_topics(cassette, "anthropic") == ["tides", "volcanoes"]
    assert topic_picker.recorded_topics(cassette, "openai") == ["volcanoes"]
    assert topic_picker.recorded_topics(cassette, "huggingface") == []


class FakeCourse:
    def __init__(self, cassette_file, live=()):
        self.cassette_file, self.live = cassette_file, set(live)

    def is_live(self, provider):
        return provider in self.live


def fake_research(calls):
    notes = research.ResearchNotes(**GOOD)

    def run(topic, provider):
        calls.append((topic, provider))
        return research.Research(topic, "summary", notes, 1)

    return run


def test_offline_takes_free_text_and_suggests_the_recorded_topics(cassette, monkeypatch):
    import ipywidgets

    monkeypatch.delenv("APICOURSE_STRICT_REPLAY", raising=False)
    calls = []
    picker = topic_picker.TopicPicker(FakeCourse(cassette), run=fake_research(calls))
    assert isinstance(picker.topic_input, ipywidgets.Combobox) and not picker.topic_input.ensure_option
    assert list(picker.topic_input.options) == ["tides", "volcanoes"]
    assert "offline stand-in" in picker.note.value and "not a model" in picker.note.value
    picker.topic_input.value = "the history of the bicycle"
    picker.button.click()
    assert calls == [("the history of the bicycle", "anthropic")]


def test_strict_replay_offers_only_recorded_topics_and_says_why(cassette, monkeypatch):
    import ipywidgets

    monkeypatch.setenv("APICOURSE_STRICT_REPLAY", "1")
    calls = []
    picker = topic_picker.TopicPicker(FakeCourse(cassette), run=fake_research(calls))
    assert isinstance(picker.topic_input, ipywidgets.Dropdown)
    assert list(picker.topic_input.options) == ["tides", "volcanoes"]
    assert "recorded" in picker.note.value
    picker.provider_buttons.value = "openai"  # switching provider refreshes the choices
    assert list(picker.topic_input.options) == ["volcanoes"]
    picker.button.click()
    assert calls == [("volcanoes", "openai")]


def test_live_takes_free_text(cassette):
    import ipywidgets

    calls = []
    picker = topic_picker.TopicPicker(FakeCourse(cassette, live={"anthropic"}), run=fake_research(calls))
    assert isinstance(picker.topic_input, ipywidgets.Text)
    picker.topic_input.value = "  solid-state batteries "
    picker.research()
    assert calls == [("solid-state batteries", "anthropic")]
    picker.provider_buttons.value = "openai"  # OpenAI still replays here: free text, recorded suggestions
    assert isinstance(picker.topic_input, ipywidgets.Combobox)


def test_empty_topic_does_not_call_the_model(cassette):
    calls = []
    picker = topic_picker.TopicPicker(FakeCourse(cassette, live={"anthropic"}), run=fake_research(calls))
    assert picker.research() is None and calls == []


# --- through the real SDKs, against the local stand-in (offline) -----------------------------------


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_the_chain_reasks_through_the_real_sdks(provider):
    """The capstone's recorded case, end to end: the SDKs parse the stand-in's answers, the first
    extraction comes back wrapped in prose, the chain re-asks once and validates the second reply."""
    import anthropic
    import openai

    from apicourse import models
    from apicourse.standin import StandIn

    with StandIn(notebook="08_research_assistant") as standin:
        if provider == "anthropic":
            client = anthropic.Anthropic(
                api_key="placeholder", http_client=standin.http_client(), max_retries=0
            )
            chat = research.anthropic_chat(client, models.anthropic())
        else:
            client = openai.OpenAI(api_key="placeholder", http_client=standin.http_client(), max_retries=0)
            chat = research.openai_chat(client, models.openai())
        result = research.research_topic("quantum computing applications in 2026", chat=chat)
    assert result.attempts == 2
    assert "wraps the JSON in other text" in result.rejected[0].reason
    assert result.notes.confidence in ("high", "medium", "low")
    assert 3 <= len(result.notes.key_points) <= 5
