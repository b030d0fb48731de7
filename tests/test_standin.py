"""The stand-in speaks each provider's wire format: the official SDKs (sync, async, streaming, binary)
parse its answers with their own typed models."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from huggingface_hub import AsyncInferenceClient, InferenceClient
from huggingface_hub.utils import _http as hf_http
from PIL import Image

from apicourse import models
from apicourse.standin import StandIn
from apicourse.standin.answers import FALLBACK_MARKER

SONNET = "claude-sonnet-4-6"  # current, and thinks only when asked: these tests check text and tool blocks
OPENAI_TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Current weather",
                 "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]  # fmt: skip
ANTHROPIC_TOOLS = [{"name": "get_weather", "description": "Current weather",
                    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]  # fmt: skip
WEATHER = json.dumps({"temperature": 18, "condition": "sunny"})

ANSWERS = """
default:
  text: "Default answer of the test notebook."
answers:
  - match: capital of France
    text: "Paris is the capital of France."
  - match: ["weather", "Paris"]
    preamble: "Let me check."
    tool_call: {name: get_weather, arguments: {city: Paris}}
    text: "It is {result[temperature]} degrees and {result[condition]}."
  - match: "count to twenty"
    text: "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
  - match: "please fail"
    status: 400
    error: "This request is deliberately refused."
"""


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIn]:
    answers = tmp_path_factory.mktemp("answers")
    (answers / "zz_test.yaml").write_text(ANSWERS, encoding="utf-8")
    with StandIn(notebook="zz_test", answers_dir=answers) as server:
        yield server


@pytest.fixture()
def oai(standin: StandIn) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", http_client=standin.http_client(), max_retries=0)


@pytest.fixture()
def claude(standin: StandIn) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-ant-test", http_client=standin.http_client(), max_retries=0)


@pytest.fixture()
def hf(standin: StandIn) -> Iterator[InferenceClient]:
    hf_http.set_client_factory(standin.http_client)
    hf_http.set_async_client_factory(standin.async_http_client)
    try:
        yield InferenceClient(api_key="hf_test_placeholder")
    finally:
        hf_http.set_client_factory(hf_http.default_client_factory)
        hf_http.set_async_client_factory(hf_http.default_async_client_factory)
        hf_http.close_session()


# --- OpenAI -------------------------------------------------------------------------------------


def test_openai_lists_and_retrieves_models(oai: openai.OpenAI) -> None:
    ids = [m.id for m in oai.models.list()]
    assert models.openai({}) in ids and models.openai_small({}) in ids
    assert oai.models.retrieve(models.openai({})).owned_by
    assert "o4-mini" not in ids, "shut down on 2026-10-23: no longer listed"
    for gone in ("no-such-model", "o4-mini"):
        with pytest.raises(openai.NotFoundError):
            oai.models.retrieve(gone)


def test_openai_chat_completion_has_ids_usage_and_headers(oai: openai.OpenAI) -> None:
    raw = oai.chat.completions.with_raw_response.create(
        model="gpt-4o",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "The capital of France?"},
        ],
        temperature=0.2,
        max_tokens=50,
    )
    completion = raw.parse()
    assert completion.choices[0].message.content == "Paris is the capital of France."
    assert completion.id.startswith("chatcmpl-") and completion.created > 1_700_000_000
    assert completion.choices[0].finish_reason == "stop" and completion.system_fingerprint.startswith("fp_")
    usage = completion.usage
    assert usage and usage.prompt_tokens > 5 and usage.completion_tokens > 3
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert raw.headers["x-request-id"].startswith("req_") and int(raw.headers["openai-processing-ms"]) > 0
    assert int(raw.headers["x-ratelimit-remaining-tokens"]) < int(raw.headers["x-ratelimit-limit-tokens"])
    assert raw.headers["x-apicourse-standin"] == "1"


def test_openai_max_tokens_cuts_with_length(oai: openai.OpenAI) -> None:
    completion = oai.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Count to twenty"}], max_tokens=4
    )
    assert completion.choices[0].finish_reason == "length"
    assert completion.choices[0].message.content == "one two three four"
    assert completion.usage and completion.usage.completion_tokens == 4


def test_openai_function_calling_round_trip(oai: openai.OpenAI) -> None:
    messages: list[Any] = [{"role": "user", "content": "What's the weather in Paris?"}]
    first = oai.chat.completions.create(model="gpt-4o", messages=messages, tools=OPENAI_TOOLS)
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    call = choice.message.tool_calls[0]
    assert call.id.startswith("call_") and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    messages += [choice.message, {"role": "tool", "tool_call_id": call.id, "content": WEATHER}]
    final = oai.chat.completions.create(model="gpt-4o", messages=messages, tools=OPENAI_TOOLS)
    assert final.choices[0].finish_reason == "stop"
    assert final.choices[0].message.content == "It is 18 degrees and sunny."


def test_openai_stream_sends_chunks_usage_and_done(oai: openai.OpenAI) -> None:
    stream = oai.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "The capital of France?"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Paris is the capital of France."
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage and chunks[-1].usage.completion_tokens > 0
    assert all(c.object == "chat.completion.chunk" and c.id == chunks[0].id for c in chunks)


def test_openai_async_client(standin: StandIn) -> None:
    async def ask() -> str:
        client = openai.AsyncOpenAI(api_key="sk-test", http_client=standin.async_http_client())
        completion = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "The capital of France?"}]
        )
        return completion.choices[0].message.content or ""

    assert asyncio.run(ask()) == "Paris is the capital of France."


def test_openai_responses_api_plain_and_streamed(oai: openai.OpenAI) -> None:
    response = oai.responses.create(model="gpt-4o", instructions="Be brief.", input="The capital of France?")
    assert (
        response.object == "response" and response.id.startswith("resp_") and response.status == "completed"
    )
    assert response.output_text == "Paris is the capital of France."
    assert response.usage and response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    with oai.responses.stream(model="gpt-4o", input="The capital of France?") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds and final.output_text == response.output_text


def test_openai_responses_function_call(oai: openai.OpenAI) -> None:
    tools: Any = [
        {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}
    ]
    first = oai.responses.create(model="gpt-4o", input="Weather in Paris?", tools=tools)
    call = first.output[0]
    assert call.type == "function_call" and call.name == "get_weather"
    second = oai.responses.create(
        model="gpt-4o",
        input=[
            {"role": "user", "content": "Weather in Paris?"},
            call.model_dump(exclude_none=True),
            {"type": "function_call_output", "call_id": call.call_id, "output": WEATHER},
        ],
        tools=tools,
    )
    assert second.output_text == "It is 18 degrees and sunny."


def test_openai_errors_use_openai_error_json(standin: StandIn, oai: openai.OpenAI) -> None:
    bad = openai.OpenAI(api_key="sk-invalid", http_client=standin.http_client(), max_retries=0)
    with pytest.raises(openai.AuthenticationError) as auth:
        bad.models.list()
    assert auth.value.code == "invalid_api_key"
    with pytest.raises(openai.NotFoundError) as missing:
        oai.chat.completions.create(model="gpt-4-32k", messages=[{"role": "user", "content": "hi"}])
    assert missing.value.code == "model_not_found" and "gpt-4-32k" in missing.value.message
    with pytest.raises(openai.BadRequestError, match="deliberately refused"):
        oai.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "please fail"}])


# --- Anthropic ----------------------------------------------------------------------------------


def test_anthropic_message_with_system_and_usage(claude: anthropic.Anthropic) -> None:
    raw = claude.messages.with_raw_response.create(
        model=SONNET,
        max_tokens=100,
        system="Be brief.",
        messages=[{"role": "user", "content": "Capital of France?"}],
    )
    message = raw.parse()
    assert message.id.startswith("msg_01") and message.type == "message" and message.model == SONNET
    assert message.content[0].type == "text" and message.content[0].text == "Paris is the capital of France."
    assert (
        message.stop_reason == "end_turn"
        and message.usage.input_tokens > 0
        and message.usage.output_tokens > 0
    )
    assert raw.headers["request-id"].startswith("req_")
    assert int(raw.headers["anthropic-ratelimit-requests-remaining"]) < int(
        raw.headers["anthropic-ratelimit-requests-limit"]
    )
    cut = claude.messages.create(
        model=SONNET, max_tokens=3, messages=[{"role": "user", "content": "Count to twenty"}]
    )
    assert cut.stop_reason == "max_tokens" and cut.usage.output_tokens == 3


def test_anthropic_tool_use_round_trip(claude: anthropic.Anthropic) -> None:
    messages: list[Any] = [{"role": "user", "content": "What's the weather in Paris?"}]
    first = claude.messages.create(model=SONNET, max_tokens=200, messages=messages, tools=ANTHROPIC_TOOLS)
    assert first.stop_reason == "tool_use"
    assert first.content[0].type == "text" and first.content[0].text == "Let me check."
    use = next(b for b in first.content if b.type == "tool_use")
    assert use.id.startswith("toolu_01") and use.name == "get_weather" and use.input == {"city": "Paris"}
    messages += [{"role": "assistant", "content": first.content},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": WEATHER}]}]  # fmt: skip
    final = claude.messages.create(model=SONNET, max_tokens=200, messages=messages, tools=ANTHROPIC_TOOLS)
    assert final.stop_reason == "end_turn" and final.content[0].text == "It is 18 degrees and sunny."


def test_anthropic_stream_follows_the_documented_event_sequence(claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(
        model=SONNET, max_tokens=100, messages=[{"role": "user", "content": "Capital of France?"}]
    ) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert kinds[:3] == ["message_start", "content_block_start", "content_block_delta"] or kinds[:3] == [
        "message_start",
        "content_block_start",
        "text",
    ]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert final.content[0].text == "Paris is the capital of France." and final.usage.output_tokens > 1
    raw = claude.messages.create(
        model=SONNET,
        max_tokens=100,
        stream=True,
        messages=[{"role": "user", "content": "Capital of France?"}],
    )
    sequence = [event.type for event in raw]
    assert sequence[0] == "message_start" and sequence[1] == "content_block_start"
    assert set(sequence[2:-3]) == {"content_block_delta"}
    assert sequence[-3:] == ["content_block_stop", "message_delta", "message_stop"]


def test_anthropic_streamed_tool_use_assembles_its_input(claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(
        model=SONNET,
        max_tokens=100,
        tools=ANTHROPIC_TOOLS,
        messages=[{"role": "user", "content": "Weather in Paris?"}],
    ) as stream:
        final = stream.get_final_message()
    use = next(b for b in final.content if b.type == "tool_use")
    assert use.input == {"city": "Paris"} and final.stop_reason == "tool_use"


def test_anthropic_async_and_errors(standin: StandIn, claude: anthropic.Anthropic) -> None:
    async def ask() -> str:
        client = anthropic.AsyncAnthropic(api_key="sk-ant-test", http_client=standin.async_http_client())
        message = await client.messages.create(
            model=SONNET, max_tokens=50, messages=[{"role": "user", "content": "Capital of France?"}]
        )
        return message.content[0].text  # type: ignore[union-attr]

    assert asyncio.run(ask()) == "Paris is the capital of France."
    with pytest.raises(anthropic.NotFoundError) as missing:
        claude.messages.create(model="claude-2.1", max_tokens=5, messages=[{"role": "user", "content": "hi"}])
    assert missing.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    bad = anthropic.Anthropic(api_key="sk-ant-invalid", http_client=standin.http_client(), max_retries=0)
    with pytest.raises(anthropic.AuthenticationError):
        bad.messages.create(model=SONNET, max_tokens=5, messages=[{"role": "user", "content": "hi"}])


# --- Hugging Face -------------------------------------------------------------------------------


def test_hf_chat_completion_plain_and_streamed(hf: InferenceClient) -> None:
    model = "meta-llama/Llama-3.3-70B-Instruct"
    messages = [{"role": "user", "content": "The capital of France?"}]
    output = hf.chat_completion(messages=messages, model=model, max_tokens=50)
    assert output.choices[0].message.content == "Paris is the capital of France."
    assert output.usage.total_tokens > 0
    streamed = "".join(
        c.choices[0].delta.content or "" for c in hf.chat_completion(messages, model=model, stream=True)
    )
    assert streamed == "Paris is the capital of France."


def test_hf_text_generation_on_a_chat_model_is_conversational_only(hf: InferenceClient) -> None:
    with pytest.raises(ValueError, match="Supported task: conversational"):
        hf.text_generation("Hello", model="meta-llama/Llama-3.3-70B-Instruct")


def test_hf_text_classification_and_async(hf: InferenceClient) -> None:
    model = "distilbert/distilbert-base-uncased-finetuned-sst-2-english"
    result = hf.text_classification("I love this course, it is great", model=model)
    assert result[0].label == "POSITIVE" and result[0].score > 0.9
    assert abs(sum(r.score for r in result) - 1) < 1e-6

    async def classify() -> str:
        return (await AsyncInferenceClient(api_key="hf_test_placeholder").text_classification(
            "boring and slow", model=model))[0].label  # fmt: skip

    assert asyncio.run(classify()) == "NEGATIVE"


def test_hf_text_to_image_returns_a_deterministic_png(hf: InferenceClient, standin: StandIn) -> None:
    model = "stabilityai/stable-diffusion-xl-base-1.0"
    image = hf.text_to_image("a lighthouse at dusk", model=model)
    assert image.size == (256, 256)
    raw = standin.http_client().post(
        f"https://router.huggingface.co/hf-inference/models/{model}",
        json={"inputs": "a lighthouse at dusk"},
        headers={"authorization": "Bearer hf_test_placeholder"},
    )
    assert raw.headers["content-type"] == "image/png" and raw.content.startswith(b"\x89PNG")
    again = standin.http_client().post(
        f"https://router.huggingface.co/hf-inference/models/{model}",
        json={"inputs": "a lighthouse at dusk"},
        headers={"authorization": "Bearer hf_test_placeholder"},
    )
    assert again.content == raw.content
    assert Image.open(io.BytesIO(raw.content)).tobytes() == image.tobytes()


# --- answers and the marker ---------------------------------------------------------------------


def test_every_answer_is_marked_and_deterministic(standin: StandIn) -> None:
    client = standin.http_client()
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "anything"}]}
    headers = {"authorization": "Bearer sk-test"}
    first = client.post("https://api.openai.com/v1/chat/completions", json=body, headers=headers)
    second = client.post("https://api.openai.com/v1/chat/completions", json=body, headers=headers)
    assert first.json() == second.json()
    assert first.json()["choices"][0]["message"]["content"] == "Default answer of the test notebook."
    for response in (
        first,
        client.get("https://huggingface.co/api/models/gpt2"),
        client.get("https://api.openai.com/nope"),
    ):
        assert response.headers["x-apicourse-standin"] == "1"


def test_unmatched_prompt_gets_the_fallback_that_names_the_file(tmp_path: Path) -> None:
    with StandIn(notebook="07_hugging_face", answers_dir=tmp_path) as server:
        client = openai.OpenAI(api_key="sk-test", http_client=server.http_client())
        text = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "?"}])
    content = text.choices[0].message.content or ""
    assert content.startswith(FALLBACK_MARKER) and "answers/07_hugging_face.yaml" in content


def test_shipped_answer_files_load() -> None:
    from apicourse.standin.answers import load_all

    files = load_all()
    assert "_defaults" in files and files["_defaults"].entries
