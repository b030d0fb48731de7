"""The offline sandbox: in replay, a call with no recording is answered by the stand-in, in the provider's
wire format, through the real SDKs, and labelled; recorded calls still replay; strict replay still fails."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

import apicourse
from apicourse import replay, sandbox
from apicourse.replay import MissingRecording
from apicourse.research import ResearchNotes, extraction_prompt
from apicourse.standin.improvise import LABEL

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture
def course(tmp_path: Path, monkeypatch):
    """A keyless learner's session whose cassette (in tmp) holds one recording: GET /v1/models."""
    folder = tmp_path / "cassettes"
    folder.mkdir()
    monkeypatch.setenv(replay.CASSETTE_DIR_VAR, str(folder))
    monkeypatch.delenv(sandbox.STRICT_VAR, raising=False)
    (folder / "05_openai.yaml").write_text(
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
      string: '{"object": "list", "data": [{"id": "recorded-model", "object": "model", "created": 1, "owned_by": "system"}]}'
version: 1
"""
    )
    session = apicourse.start("05_openai", quiet=True)
    yield session
    session.stop()


def test_recorded_calls_still_replay_exactly(course):
    import openai

    assert [m.id for m in openai.OpenAI().models.list()] == ["recorded-model"]


def test_an_unrecorded_chat_gets_a_labelled_answer_in_openai_format(course, capsys):
    import openai

    raw = openai.OpenAI().chat.completions.with_raw_response.create(
        model="gpt-4o",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name three rivers"}],
        max_completion_tokens=200,
    )
    completion = raw.parse()
    text = completion.choices[0].message.content
    assert text.startswith(LABEL) and "Name three rivers" in text
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens > 0
    assert raw.headers["x-request-id"].startswith("req_") and raw.headers[sandbox.SANDBOX_HEADER] == "1"
    note = capsys.readouterr().err
    assert note.count("Offline stand-in") == 1 and "OPENAI_API_KEY" in note and "restart the kernel" in note


def test_strict_replay_keeps_missing_recording(course, monkeypatch):
    import openai

    monkeypatch.setenv(sandbox.STRICT_VAR, "1")
    with pytest.raises(MissingRecording):
        openai.OpenAI().chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi?"}])


def test_the_openai_tool_loop_runs_offline(course):
    import openai

    client = openai.OpenAI()
    messages = [{"role": "user", "content": "What's the weather like in Lisbon?"}]
    first = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER_TOOL])
    call = first.choices[0].message.tool_calls[0]
    assert first.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Lisbon"}
    messages += [first.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": '{"temp_c": 21}'}]  # fmt: skip
    final = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER_TOOL])
    assert final.choices[0].message.content.startswith(LABEL) and '"temp_c": 21' in final.choices[0].message.content


def test_tools_offered_but_not_called_for_get_text(course):
    import openai

    answer = openai.OpenAI().chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Write a limerick about cheese"}], tools=[WEATHER_TOOL]
    )
    assert answer.choices[0].message.tool_calls is None and answer.choices[0].message.content.startswith(LABEL)


def test_a_stream_delivers_text_and_final_usage(course):
    import openai

    stream = openai.OpenAI().chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Explain DNS in a sentence"}], stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith(LABEL) and len([c for c in chunks if c.choices]) > 5
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_json_schema_gets_exactly_its_keys(course):
    import openai

    schema = {"type": "object", "additionalProperties": False, "required": ["name", "year", "tags"],
              "properties": {"name": {"type": "string"}, "year": {"type": "integer"},
                             "tags": {"type": "array", "items": {"type": "string"}}}}  # fmt: skip
    answer = openai.OpenAI().chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "A famous bridge"}],
        response_format={"type": "json_schema", "json_schema": {"name": "bridge", "strict": True, "schema": schema}},
    )  # fmt: skip
    data = json.loads(answer.choices[0].message.content)
    assert set(data) == {"name", "year", "tags"} and isinstance(data["year"], int) and data["name"].startswith(LABEL)


def test_the_capstone_extraction_prompt_gets_valid_notes_on_any_topic(course):
    import anthropic

    reply = anthropic.Anthropic().messages.create(
        model="claude-sonnet-4-6", max_tokens=1024,
        messages=[{"role": "user", "content": extraction_prompt("Tea is a drink made from leaves.")}],
    )  # fmt: skip
    text = "".join(b.text for b in reply.content if b.type == "text")
    notes = ResearchNotes.model_validate_json(text)
    assert notes.title.startswith(LABEL) and 3 <= len(notes.key_points) <= 5


def test_anthropic_tool_use_round_trip_and_stream(course):
    import anthropic

    client = anthropic.Anthropic()
    tool = {"name": "get_weather", "description": "Weather for a city",
            "input_schema": WEATHER_TOOL["function"]["parameters"]}  # fmt: skip
    messages = [{"role": "user", "content": "Is it raining in Oslo?"}]
    first = client.messages.create(model="claude-sonnet-4-6", max_tokens=300, messages=messages, tools=[tool])
    use = next(b for b in first.content if b.type == "tool_use")
    assert first.stop_reason == "tool_use" and use.input == {"city": "Oslo"}
    messages += [{"role": "assistant", "content": first.content},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "rain"}]}]  # fmt: skip
    with client.messages.stream(model="claude-sonnet-4-6", max_tokens=300, messages=messages, tools=[tool]) as s:
        text = "".join(s.text_stream)
        final = s.get_final_message()
    assert text.startswith(LABEL) and "rain" in text and final.usage.output_tokens > 0


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": "hi"}]}, 400,
         "max_tokens: Field required"),
        ({"model": "claude-sonnet-4-6", "max_tokens": 9, "messages": [{"role": "system", "content": "hi"}]}, 400,
         'Unexpected role "system"'),
        ({"model": "claude-sonnet-4-6", "max_tokens": 9, "messages": [{"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_x", "content": "1"}]}]}, 400,
         "Each `tool_result` block must have a corresponding `tool_use` block"),
        ({"model": "claude-no-such-model", "max_tokens": 9, "messages": [{"role": "user", "content": "hi"}]}, 404,
         "model: claude-no-such-model"),
    ],
)  # fmt: skip
def test_anthropic_refusals_come_in_anthropics_error_format(course, body, status, fragment):
    import anthropic

    with pytest.raises(anthropic.APIStatusError) as caught:
        anthropic.Anthropic().post("/v1/messages", cast_to=object, body=body)
    error = caught.value
    assert error.status_code == status and error.body["type"] == "error" and error.request_id.startswith("req_")
    assert fragment in error.body["error"]["message"] and LABEL in error.body["error"]["message"]


@pytest.mark.parametrize(
    ("kwargs", "exception", "param"),
    [
        ({"model": "gpt-4o", "messages": [{"role": "bot", "content": "hi"}]}, "BadRequestError", "messages[0].role"),
        ({"model": "gpt-4o", "messages": [{"role": "tool", "tool_call_id": "call_1", "content": "1"}]},
         "BadRequestError", "messages.[0].role"),
        ({"model": "gpt-nope", "messages": [{"role": "user", "content": "hi"}]}, "NotFoundError", None),
    ],
)  # fmt: skip
def test_openai_refusals_come_in_openais_error_format(course, kwargs, exception, param):
    import openai

    with pytest.raises(getattr(openai, exception)) as caught:
        openai.OpenAI().chat.completions.create(**kwargs)
    assert caught.value.body["param"] == param and LABEL in caught.value.body["message"]


def test_async_calls_and_plain_requests_are_answered_too(course):
    import openai
    import requests

    async def two() -> list[str]:
        client = openai.AsyncOpenAI()
        replies = await asyncio.gather(*(
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"Define {w}"}])
            for w in ("latency", "throughput")
        ))  # fmt: skip
        return [r.choices[0].message.content for r in replies]

    assert all(text.startswith(LABEL) for text in asyncio.run(two()))
    raw = requests.post(
        "https://api.openai.com/v1/chat/completions", headers={"Authorization": "Bearer sk-replay-placeholder"},
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "Ping?"}]}, timeout=5,
    )  # fmt: skip
    assert raw.status_code == 200 and raw.json()["choices"][0]["message"]["content"].startswith(LABEL)


def test_hugging_face_classifies_and_draws_a_stamped_placeholder(course):
    from huggingface_hub import InferenceClient

    from apicourse import models

    client = InferenceClient()
    labels = client.text_classification("What a wonderful, helpful lesson", model=models.hf_classify())
    assert labels[0].label == "POSITIVE"
    image = client.text_to_image("a lighthouse at dusk", model=models.hf_image())
    bottom = image.convert("L").crop((0, image.height - 20, image.width, image.height))
    dark, light = bottom.getextrema()
    pixels = bottom.tobytes()
    assert image.size == (256, 256) and dark < 10 and light > 200, "a black strip with white text at the bottom"
    assert sum(p < 10 for p in pixels) > len(pixels) * 0.6


def test_other_hosts_are_never_answered_by_the_stand_in(course):
    import requests

    with pytest.raises(MissingRecording):
        requests.get("https://example.com/data.json", timeout=5)


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_the_capstone_runs_on_a_topic_nobody_recorded(course, provider):
    from apicourse import research

    result = research.research_topic("the history of the bicycle", provider=provider)
    assert result.summary.startswith(LABEL) and "the history of the bicycle" in result.summary
    assert result.notes.title.startswith(LABEL) and result.attempts == 1
