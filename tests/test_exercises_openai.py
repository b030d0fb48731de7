"""Lesson 05's checks run the learner's OpenAI calls in the sandbox: right answers in several styles pass,
plausible wrong ones get a hint that names the problem without writing the code."""

from __future__ import annotations

import json

import pytest

from apicourse import exercises as ex
from apicourse import models


def _ask(client, question, **limit):
    return client.chat.completions.create(
        model=models.openai(),
        messages=[
            {"role": "system", "content": "You are a patient Python tutor."},
            {"role": "user", "content": question},
        ],
        **(limit or {"max_completion_tokens": 300}),
    )


def tutor_plain(client, question):
    return _ask(client, question).choices[0].message.content


def tutor_developer_role(client, question):
    messages = [{"role": "developer", "content": "Explain like a tutor."}]
    messages.append({"role": "user", "content": [{"type": "text", "text": question}]})
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages, max_completion_tokens=100)
    message = reply.choices[0].message
    return message.content


def tutor_with_raw(client, question):
    raw = client.chat.completions.with_raw_response.create(
        model=models.openai(), max_completion_tokens=50,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": question}])  # fmt: skip
    return raw.parse().choices[0].message.content


@pytest.mark.parametrize("answer", [tutor_plain, tutor_developer_role, tutor_with_raw])
def test_ask_tutor_accepts_right_answers(answer):
    assert ex.check_ask_tutor(answer)


def _blank(client, question): ...


def _no_system(client, question):
    r = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": question}],
                                       max_completion_tokens=50)  # fmt: skip
    return r.choices[0].message.content


def _system_last(client, question):
    r = client.chat.completions.create(model="gpt-4o", max_completion_tokens=50, messages=[
        {"role": "user", "content": question}, {"role": "system", "content": "Be a tutor."}])  # fmt: skip
    return r.choices[0].message.content


def _retired_model(client, question):
    r = client.chat.completions.create(model="gpt-4-32k", max_completion_tokens=50, messages=[
        {"role": "system", "content": "Be a tutor."}, {"role": "user", "content": question}])  # fmt: skip
    return r.choices[0].message.content


def _fixed_question(client, question):
    return _ask(client, "What is a Python decorator, in one sentence?").choices[0].message.content


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_blank, "sends nothing yet"),
        (_no_system, "no system prompt"),
        (_system_last, "should come first"),
        (_fixed_question, "carries the question"),
        (lambda c, q: _ask(c, q, max_tokens=300).choices[0].message.content, "max_tokens is deprecated"),
        (lambda c, q: _ask(c, q, temperature=0.2).choices[0].message.content, "Nothing caps the length"),
        (lambda c, q: _ask(c, q), "whole response object"),
        (lambda c, q: _ask(c, q).choices[0].message, "returns a message"),
        (lambda c, q: print(_ask(c, q).choices[0].message.content), "returns None"),
        (lambda c, q: "A decorator wraps a function.", "without a request"),
        (_retired_model, "NotFoundError"),
    ],
)
def test_ask_tutor_rejects_wrong_answers(answer, hint, capsys):
    verdict = ex.check_ask_tutor(answer)
    assert not verdict
    assert hint in verdict.message
    assert "Not yet" in capsys.readouterr().out


TOOL = {
    "type": "function",
    "function": {
        "name": "convert_currency",
        "description": "Convert an amount between currencies",
        "parameters": {
            "type": "object",
            "properties": {
                "amount": {"type": "number"},
                "currency": {"type": "string", "enum": ["EUR", "GBP"]},
            },
            "required": ["amount", "currency"],
        },
    },
}
RATES = {"EUR": 0.92, "GBP": 0.79}


def convert_currency(amount, currency):
    return {"amount": round(amount * RATES[currency], 2), "currency": currency}


def loop_while(client, question):
    messages = [{"role": "user", "content": question}]
    while True:
        reply = client.chat.completions.create(
            model=models.openai(), messages=messages, tools=[TOOL], max_completion_tokens=200
        )
        message = reply.choices[0].message
        if reply.choices[0].finish_reason != "tool_calls":
            return message.content
        messages.append(message)
        for call in message.tool_calls:
            result = convert_currency(**json.loads(call.function.arguments))
            messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})


def loop_if_dicts(client, question):
    messages = [{"role": "user", "content": question}]
    first = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[TOOL])
    message = first.choices[0].message
    if not message.tool_calls:
        return message.content
    messages.append(message.model_dump(exclude_none=True))
    for call in message.tool_calls:
        arguments = json.loads(call.function.arguments)
        messages.append({"role": "tool", "tool_call_id": call.id, "content": str(convert_currency(**arguments))})
    return client.chat.completions.create(model="gpt-4o", messages=messages, tools=[TOOL]).choices[0].message.content


@pytest.mark.parametrize("answer", [loop_while, loop_if_dicts])
def test_tool_loop_accepts_right_answers(answer):
    assert ex.check_tool_loop(answer, TOOL, convert_currency, arguments={"amount": 10, "currency": "EUR"})


def _without_assistant(client, question):
    messages = [{"role": "user", "content": question}]
    message = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[TOOL]).choices[0].message
    if not message.tool_calls:
        return message.content
    for call in message.tool_calls:
        result = convert_currency(**json.loads(call.function.arguments))
        messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
    return client.chat.completions.create(model="gpt-4o", messages=messages, tools=[TOOL]).choices[0].message.content


def _wrong_id(client, question):
    messages = [{"role": "user", "content": question}]
    message = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[TOOL]).choices[0].message
    if not message.tool_calls:
        return message.content
    messages.append(message)
    for call in message.tool_calls:
        result = convert_currency(**json.loads(call.function.arguments))
        messages.append({"role": "tool", "tool_call_id": call.function.name, "content": json.dumps(result)})
    return client.chat.completions.create(model="gpt-4o", messages=messages, tools=[TOOL]).choices[0].message.content


def _string_arguments(client, question):
    messages = [{"role": "user", "content": question}]
    message = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[TOOL]).choices[0].message
    for call in message.tool_calls or []:
        convert_currency(call.function.arguments)
    return message.content


def _stops_after_first(client, question):
    reply = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": question}], tools=[TOOL]
    )
    return reply.choices[0].message.content


def _no_tools(client, question):
    return client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": question}]
    ).choices[0].message.content


def _only_when_asked(client, question):  # crashes when the model needs no tool
    messages = [{"role": "user", "content": question}]
    message = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[TOOL]).choices[0].message
    messages.append(message)
    for call in message.tool_calls:
        result = convert_currency(**json.loads(call.function.arguments))
        messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
    return client.chat.completions.create(model="gpt-4o", messages=messages, tools=[TOOL]).choices[0].message.content


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_blank, "sends nothing yet"),
        (_no_tools, "doesn't offer convert_currency"),
        (_stops_after_first, "nothing was sent back"),
        (_string_arguments, "after the model asked for the tool"),
        (_without_assistant, "must go back into the conversation"),
        (_wrong_id, "name the call it answers"),
        (_only_when_asked, "without a tool"),
    ],
)
def test_tool_loop_rejects_wrong_answers(answer, hint):
    verdict = ex.check_tool_loop(answer, TOOL, convert_currency, arguments={"amount": 10, "currency": "EUR"})
    assert not verdict
    assert hint in verdict.message


def test_tool_loop_checks_the_tool_and_the_function_first():
    no_description = {**TOOL, "function": {"name": "x"}}
    assert "description" in ex.check_tool_loop(loop_while, no_description, convert_currency).message
    assert "JSON Schema" in ex.check_tool_loop(
        loop_while, {"type": "function", "function": {"name": "x", "description": "y"}}, convert_currency
    ).message
    # the sample arguments from the schema are {"amount": 1.5, "currency": "EUR"}: they work without arguments=
    assert ex.check_tool_loop(loop_while, TOOL, convert_currency)
    unknown_currency = {"amount": 1, "currency": "JPY"}
    assert "Pass arguments=" in ex.check_tool_loop(loop_while, TOOL, convert_currency, unknown_currency).message


def stream_concat(client, question):
    stream = client.chat.completions.create(
        model=models.openai(), messages=[{"role": "user", "content": question}], max_completion_tokens=300,
        stream=True, stream_options={"include_usage": True},
    )  # fmt: skip
    text, usage = "", None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
        if chunk.usage:
            usage = chunk.usage
    return text, usage


def stream_parts_dict(client, question):
    parts, total = [], None
    with client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": question}], max_completion_tokens=20,
        stream=True, stream_options={"include_usage": True},
    ) as stream:  # fmt: skip
        for chunk in stream:
            for choice in chunk.choices:
                parts.append(choice.delta.content or "")
            if chunk.usage is not None:
                total = chunk.usage.total_tokens
    return {"text": "".join(parts), "usage": total}


@pytest.mark.parametrize("answer", [stream_concat, stream_parts_dict])
def test_stream_accepts_right_answers(answer):
    assert ex.check_stream_answer(answer)


def _stream(client, question, **options):
    return client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": question}], max_completion_tokens=300, **options
    )


def _last_piece_only(client, question):
    text, usage = "", None
    for chunk in _stream(client, question, stream=True, stream_options={"include_usage": True}):
        if chunk.choices and chunk.choices[0].delta.content:
            text = chunk.choices[0].delta.content
        usage = chunk.usage or usage
    return text, usage


def _no_usage_asked(client, question):
    text = ""
    for chunk in _stream(client, question, stream=True):
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
    return text, None


def _usage_forgotten(client, question):
    text, usage = "", None
    for chunk in _stream(client, question, stream=True, stream_options={"include_usage": True}):
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
    return text, usage


def _not_streamed(client, question):
    reply = _stream(client, question)
    return reply.choices[0].message.content, reply.usage


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_blank, "sends nothing yet"),
        (_not_streamed, "doesn't ask for a stream"),
        (_no_usage_asked, "no token counts unless you ask"),
        (_last_piece_only, "only part of the answer"),
        (_usage_forgotten, "usage is None"),
        (lambda c, q: _stream(c, q, stream=True, stream_options={"include_usage": True}), "Return two things"),
    ],
)
def test_stream_rejects_wrong_answers(answer, hint):
    verdict = ex.check_stream_answer(answer)
    assert not verdict
    assert hint in verdict.message
