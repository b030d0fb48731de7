"""The stand-in refuses what the real APIs refuse, with the same status and error body, through the official
SDKs against the running stand-in (apicourse/standin/rules.py; sources cited there)."""

from __future__ import annotations

import anthropic
import httpx2
import openai
import pytest

from apicourse.standin import StandIn

USER = [{"role": "user", "content": "Say hello"}]


@pytest.fixture(scope="module")
def standin():
    with StandIn(notebook="05_openai") as running:
        yield running


@pytest.fixture
def oai(standin):
    return openai.OpenAI(api_key="sk-test", http_client=standin.http_client(), max_retries=0)


@pytest.fixture
def claude(standin):
    return anthropic.Anthropic(api_key="sk-ant-test", http_client=standin.http_client(), max_retries=0)


def openai_error(caught: pytest.ExceptionInfo) -> dict:
    return caught.value.response.json()["error"]


def test_max_tokens_on_a_reasoning_model_is_refused_as_openai_does(oai):
    with pytest.raises(openai.BadRequestError) as caught:
        oai.chat.completions.create(model="gpt-6.1-terra", messages=USER, max_tokens=50)
    assert caught.value.status_code == 400
    assert openai_error(caught) == {
        "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
        "Use 'max_completion_tokens' instead.",
        "type": "invalid_request_error",
        "param": "max_tokens",
        "code": "unsupported_parameter",
    }
    answer = oai.chat.completions.create(model="gpt-6.1-terra", messages=USER, max_completion_tokens=50)
    assert answer.choices[0].message.content


def test_non_default_temperature_on_a_reasoning_model(oai):
    with pytest.raises(openai.BadRequestError) as caught:
        oai.chat.completions.create(model="gpt-6-luna", messages=USER, temperature=0.7)
    assert openai_error(caught) == {
        "message": "Unsupported value: 'temperature' does not support 0.7 with this model. "
        "Only the default (1) value is supported.",
        "type": "invalid_request_error",
        "param": "temperature",
        "code": "unsupported_value",
    }
    assert oai.chat.completions.create(model="gpt-6-luna", messages=USER, temperature=1).choices
    # reasoning effort "none" lets a model that offers it take a temperature; gpt-6-luna does not offer it
    assert oai.chat.completions.create(
        model="gpt-6.1-terra", messages=USER, temperature=0.2, reasoning_effort="none"
    ).choices
    with pytest.raises(openai.BadRequestError):
        oai.chat.completions.create(model="gpt-6-luna", messages=USER, temperature=0.2, reasoning_effort="none")


def test_responses_api_refuses_temperature_on_a_reasoning_model(oai):
    with pytest.raises(openai.BadRequestError) as caught:
        oai.responses.create(model="gpt-6.1-terra", input="Say hello", temperature=0.5)
    assert openai_error(caught) == {
        "message": "Unsupported parameter: 'temperature' is not supported with this model.",
        "type": "invalid_request_error",
        "param": "temperature",
        "code": "unsupported_parameter",
    }


def test_older_models_keep_max_tokens_and_temperature(oai):
    answer = oai.chat.completions.create(model="gpt-4o", messages=USER, max_tokens=5, temperature=0.7)
    assert answer.choices[0].finish_reason in ("stop", "length")


def test_a_shut_down_openai_model_gets_openais_404(oai):
    with pytest.raises(openai.NotFoundError) as caught:
        oai.chat.completions.create(model="gpt-3.5-turbo", messages=USER)  # shut down 2026-10-23
    assert openai_error(caught) == {
        "message": "The model `gpt-3.5-turbo` has been deprecated, learn more here: "
        "https://platform.openai.com/docs/deprecations",
        "type": "invalid_request_error",
        "param": None,
        "code": "model_not_found",
    }


def test_a_retired_claude_model_gets_anthropics_404(claude):
    with pytest.raises(anthropic.NotFoundError) as caught:
        claude.messages.create(model="claude-sonnet-4-20250514", max_tokens=50, messages=USER)
    body = caught.value.response.json()
    assert body["type"] == "error"
    assert body["error"] == {"type": "not_found_error", "message": "model: claude-sonnet-4-20250514"}


def test_claude_models_that_dropped_temperature(claude):
    with pytest.raises(anthropic.BadRequestError) as caught:
        claude.messages.create(model="claude-opus-4-8", max_tokens=50, messages=USER, extra_body={"temperature": 0.3})
    assert caught.value.response.json()["error"] == {
        "type": "invalid_request_error",
        "message": "`temperature` is deprecated for this model.",
    }
    answer = claude.messages.create(model="claude-sonnet-4-6", max_tokens=50, messages=USER,
                                    extra_body={"temperature": 0.3})  # fmt: skip
    assert [block.type for block in answer.content] == ["text"]


def test_missing_required_parameters(standin):
    with httpx2.Client(base_url=standin.url, timeout=10) as http:
        oai = http.post("/api.openai.com/v1/chat/completions", json={"model": "gpt-6.1-terra"},
                        headers={"authorization": "Bearer sk-test"})  # fmt: skip
        claude = http.post("/api.anthropic.com/v1/messages", json={"model": "claude-sonnet-5-5", "messages": USER},
                           headers={"x-api-key": "sk-ant-test"})  # fmt: skip
    assert oai.status_code == 400
    assert oai.json()["error"] == {
        "message": "Missing required parameter: 'messages'.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "missing_required_parameter",
    }
    assert claude.status_code == 400
    assert claude.json()["error"] == {"type": "invalid_request_error", "message": "max_tokens: Field required"}


def test_models_that_think_by_default_answer_with_a_thinking_block_first(claude):
    """claude-sonnet-5-5 (the course default) thinks unless told not to: content[0] is not the text."""
    question = [{"role": "user", "content": "Capital of France?"}]
    answer = claude.messages.create(model="claude-sonnet-5-5", max_tokens=100, messages=question)
    assert [block.type for block in answer.content] == ["thinking", "text"]
    assert answer.content[0].thinking == "" and answer.content[0].signature  # display "omitted" by default
    assert not hasattr(answer.content[0], "text")
    with claude.messages.stream(model="claude-sonnet-5-5", max_tokens=100, messages=question) as stream:
        streamed = stream.get_final_message()
    assert [block.type for block in streamed.content] == ["thinking", "text"]
    assert streamed.content[1].text == answer.content[1].text
    off = claude.messages.create(model="claude-sonnet-5-5", max_tokens=100, messages=question,
                                 thinking={"type": "disabled"})  # fmt: skip
    assert [block.type for block in off.content] == ["text"]
    shown = claude.messages.create(model="claude-opus-4-8", max_tokens=100, messages=question,
                                   thinking={"type": "adaptive", "display": "summarized"})  # fmt: skip
    assert shown.content[0].type == "thinking" and shown.content[0].thinking.startswith("(stand-in)")
    assert [block.type for block in claude.messages.create(model="claude-opus-4-8", max_tokens=100,
                                                           messages=question).content] == ["text"]  # fmt: skip
