"""The research assistant's chain: validation, the single re-ask, both providers' wiring (offline)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from apicourse import research

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
        self.calls.append({"messages": [dict(m) for m in messages], "system": system, "max_tokens": max_tokens})
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
    assert "not pure JSON" in reask[2]["content"]
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
