"""Lesson 06's checks run the learner's Anthropic calls in the sandbox: right answers in several styles pass,
plausible wrong ones (OpenAI habits above all) get a hint that names the problem."""

from __future__ import annotations

import json

import pytest

from apicourse import exercises as ex
from apicourse import models


def claude_by_type(client, question):
    message = client.messages.create(
        model=models.anthropic(), max_tokens=300, system="You are a patient Python tutor.",
        messages=[{"role": "user", "content": question}],
    )  # fmt: skip
    return "".join(block.text for block in message.content if block.type == "text")


def claude_first_block_blocks_system(client, question):
    message = client.messages.create(
        model="claude-haiku-4-5", max_tokens=100,
        system=[{"type": "text", "text": "Answer like a tutor."}],
        messages=[{"role": "user", "content": [{"type": "text", "text": question}]}],
    )  # fmt: skip
    return message.content[0].text


@pytest.mark.parametrize("answer", [claude_by_type, claude_first_block_blocks_system])
def test_ask_claude_accepts_right_answers(answer):
    assert ex.check_ask_claude(answer)


def _blank(client, question): ...


def _create(client, question, messages=None, **options):
    options.setdefault("max_tokens", 200)
    options.setdefault("model", models.anthropic())
    return client.messages.create(messages=messages or [{"role": "user", "content": question}], **options)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_blank, "sends nothing yet"),
        (lambda c, q: _create(c, q, [{"role": "system", "content": "Tutor."}, {"role": "user", "content": q}]),
         "no 'system' role"),
        (lambda c, q: _create(c, q).content[0].text, "no system prompt"),
        (lambda c, q: _create(c, "Hello", system="Tutor.").content[0].text, "No message carries the question"),
        (lambda c, q: c.messages.create(model="claude-sonnet-4-6", system="Tutor.",
                                        messages=[{"role": "user", "content": q}]), "raised TypeError"),
        (lambda c, q: _create(c, q, system="Tutor.", model="claude-2.1"), "NotFoundError"),
        (lambda c, q: _create(c, q, system="Tutor."), "whole Message"),
        (lambda c, q: _create(c, q, system="Tutor.").content, "list of content blocks"),
        (lambda c, q: _create(c, q, system="Tutor.").content[0], "a content block"),
        (lambda c, q: _create(c, q, system="Tutor.").choices[0].message.content, "raised AttributeError"),
    ],
)  # fmt: skip
def test_ask_claude_rejects_wrong_answers(answer, hint):
    verdict = ex.check_ask_claude(answer)
    assert not verdict
    assert hint in verdict.message


TOOLS = [
    {
        "name": "get_stock_price",
        "description": "Get the current stock price for a ticker symbol",
        "input_schema": {"type": "object", "properties": {"ticker": {"type": "string"}}, "required": ["ticker"]},
    }
]


def get_stock_price(ticker):
    sample = {"AAPL": 227.48, "MSFT": 415.30}
    return {"ticker": ticker.upper(), "price": sample[ticker.upper()], "note": "sample data"}


def round_trip_comprehension(client, question):
    messages = [{"role": "user", "content": question}]
    response = client.messages.create(model=models.anthropic(), max_tokens=500, tools=TOOLS, messages=messages)
    while response.stop_reason == "tool_use":
        messages.append({"role": "assistant", "content": response.content})
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": b.id, "content": json.dumps(get_stock_price(**b.input))}
            for b in response.content if b.type == "tool_use"]})  # fmt: skip
        response = client.messages.create(model=models.anthropic(), max_tokens=500, tools=TOOLS, messages=messages)
    return "".join(b.text for b in response.content if b.type == "text")


def round_trip_dicts(client, question):
    messages = [{"role": "user", "content": question}]
    first = client.messages.create(model="claude-haiku-4-5", max_tokens=300, tools=TOOLS, messages=messages)
    uses = [b for b in first.content if b.type == "tool_use"]
    if not uses:
        return first.content[0].text
    messages.append({"role": "assistant", "content": [b.model_dump() for b in first.content]})
    results = []
    for use in uses:
        price = get_stock_price(use.input["ticker"])
        results.append({"type": "tool_result", "tool_use_id": use.id,
                        "content": [{"type": "text", "text": json.dumps(price)}]})  # fmt: skip
    messages.append({"role": "user", "content": results})
    final = client.messages.create(model="claude-haiku-4-5", max_tokens=300, tools=TOOLS, messages=messages)
    return next(b.text for b in final.content if b.type == "text")


@pytest.mark.parametrize("answer", [round_trip_comprehension, round_trip_dicts])
def test_round_trip_accepts_right_answers(answer):
    assert ex.check_tool_round_trip(answer, get_stock_price)


def _trip(result_message, keep_assistant=True, first_block=False):
    def answer(client, question):
        messages = [{"role": "user", "content": question}]
        response = client.messages.create(model="claude-sonnet-4-6", max_tokens=300, tools=TOOLS, messages=messages)
        if response.stop_reason != "tool_use":
            return response.content[0].text
        use = response.content[0] if first_block else next(b for b in response.content if b.type == "tool_use")
        if keep_assistant:
            messages.append({"role": "assistant", "content": response.content})
        messages.append(result_message(use))
        final = client.messages.create(model="claude-sonnet-4-6", max_tokens=300, tools=TOOLS, messages=messages)
        return final.content[0].text

    return answer


def _result(use, role="user", use_id=None, content=None):
    price = json.dumps(get_stock_price(**use.input)) if content is None else content
    return {"role": role, "content": [{"type": "tool_result", "tool_use_id": use_id or use.id, "content": price}]}


def _no_tools(client, question):
    return client.messages.create(
        model="claude-sonnet-4-6", max_tokens=100, messages=[{"role": "user", "content": question}]
    ).content[0].text


def _openai_habit(client, question):
    messages = [{"role": "user", "content": question}]
    response = client.messages.create(model="claude-sonnet-4-6", max_tokens=300, tools=TOOLS, messages=messages)
    for block in response.content:
        if block.type == "tool_use":
            messages.append({"role": "assistant", "content": response.content})
            messages.append({"role": "tool", "tool_call_id": block.id, "content": "415.3"})
            return client.messages.create(model="claude-sonnet-4-6", max_tokens=300, tools=TOOLS,
                                          messages=messages).content[0].text  # fmt: skip
    return response.content[0].text


def _only_first_call(client, question):
    response = client.messages.create(
        model="claude-sonnet-4-6", max_tokens=300, tools=TOOLS, messages=[{"role": "user", "content": question}]
    )
    return next(b.text for b in response.content if b.type == "text")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_blank, "sends nothing yet"),
        (_no_tools, "doesn't offer get_stock_price"),
        (_only_first_call, "nothing was sent back"),
        (_trip(_result, first_block=True), "after Claude answered with a text block and a tool_use block"),
        (_openai_habit, "no 'tool' role"),
        (_trip(_result, keep_assistant=False), "must go back into the conversation"),
        (_trip(lambda use: _result(use, role="assistant")), "wrong turn"),
        (_trip(lambda use: _result(use, use_id="toolu_made_up")), "name the tool_use it answers"),
        (_trip(lambda use: _result(use, content="done")), "not what your function returned"),
    ],
)
def test_round_trip_rejects_wrong_answers(answer, hint):
    verdict = ex.check_tool_round_trip(answer, get_stock_price)
    assert not verdict
    assert hint in verdict.message


def test_round_trip_needs_a_text_answer_without_a_tool():
    def crashes_without_tool(client, question):
        messages = [{"role": "user", "content": question}]
        response = client.messages.create(model="claude-sonnet-4-6", max_tokens=300, tools=TOOLS, messages=messages)
        use = next(b for b in response.content if b.type == "tool_use")
        messages += [{"role": "assistant", "content": response.content}, _result(use)]
        final = client.messages.create(model="claude-sonnet-4-6", max_tokens=300, tools=TOOLS, messages=messages)
        return final.content[0].text

    verdict = ex.check_tool_round_trip(crashes_without_tool, get_stock_price)
    assert not verdict and "without a tool" in verdict.message
