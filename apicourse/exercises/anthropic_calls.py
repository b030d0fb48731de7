"""Checks for lesson 06's exercises: the learner's own Anthropic calls, run in the sandbox.

As in lesson 05 (:mod:`apicourse.exercises.openai_calls`), each check hands the learner's function an
``anthropic.Anthropic`` client of its own on the course's local stand-in, with answers written for the
check, then reads what was sent and returned::

    >>> def ask_claude(client, question):
    ...     message = client.messages.create(
    ...         model="claude-sonnet-4-6", max_tokens=300, system="You are a patient Python tutor.",
    ...         messages=[{"role": "user", "content": question}])
    ...     return "".join(block.text for block in message.content if block.type == "text")
    >>> v = check_ask_claude(ask_claude)
    ✓ The system prompt is a parameter, max_tokens is set, and the text comes from the text blocks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from apicourse.exercises.basics import Verdict, _hint, _ok
from apicourse.exercises.openai_calls import STANDIN, failed_run, no_request, same_result
from apicourse.exercises.sandbox import Sandbox, describe, role_of, run, text_of

MESSAGES = "/v1/messages"

CLAUDE_QUESTIONS = {
    "What does a Python generator do, in one sentence?": "It produces values one at a time, when asked.",
    "Why does an API need a key?": "So the provider knows who is calling, and who pays.",
}


def returned_text(value: Any, expected: str, name: str) -> Verdict | None:
    """A hint unless ``value`` is the text of Claude's answer (a str)."""
    if isinstance(value, str) and value.strip() == expected.strip():
        return None
    if hasattr(value, "stop_reason"):
        return _hint(f"{name} returns the whole Message; return the text of its text blocks.")
    if getattr(value, "type", None) == "thinking":
        return _hint(f"{name} returns a content block, the model's thinking (newer models think first); "
                     "return the text of the text blocks.")
    if hasattr(value, "type") and hasattr(value, "text"):
        return _hint(f"{name} returns a content block; return the text inside it.")
    if isinstance(value, list):
        return _hint(f"{name} returns the list of content blocks; return the text they carry.")
    if value is None:
        return _hint(f"{name} returns None: end it with return and the answer's text.")
    return _hint(f"{name} returned {describe(value)}, which is not the text of the answer it got.")


def check_ask_claude(ask_claude: Callable[[Any, str], Any]) -> Verdict:
    """``ask_claude(client, question)``: one Messages call with a system prompt and ``max_tokens`` → the text."""
    answers = [
        {"match": q, "provider": "anthropic", "text": f"{a} {STANDIN}"} for q, a in CLAUDE_QUESTIONS.items()
    ]
    with Sandbox(answers) as box:
        for question, answer in CLAUDE_QUESTIONS.items():
            before = len(box.calls(MESSAGES))
            outcome = run(ask_claude, box.anthropic(), question)
            calls = box.calls(MESSAGES)[before:]
            if calls and any(role_of(m) == "system" for m in calls[-1].get("messages", [])):
                return _hint("Anthropic's messages have no 'system' role (the API refuses it): "
                             "the system prompt travels another way.")  # fmt: skip
            if not calls:
                failure = failed_run(outcome, "ask_claude")  # a Verdict that failed is falsy: test for None
                return failure if failure is not None else no_request(outcome, "ask_claude", "client.messages.create(...)")
            body = calls[-1]  # what was sent is judged first: a failure reading the answer may follow from it
            if not text_of(body.get("system")).strip():
                return _hint("There's no system prompt: tell Claude how to behave for the whole conversation.")
            if not any(question in text_of(m.get("content")) for m in body.get("messages", [])):
                return _hint(f"No message carries the question ask_claude was given (the check asked {question!r}).")
            if (hint := failed_run(outcome, "ask_claude")) is not None:
                return hint
            if (hint := returned_text(outcome.value, f"{answer} {STANDIN}", "ask_claude")) is not None:
                return hint
    return _ok("The system prompt is a parameter, max_tokens is set, and the text comes from the text blocks.")


# --------------------------------------------------------------------------- tool_use → tool_result


def _blocks(message: Mapping[str, Any], kind: str) -> list[Mapping[str, Any]]:
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [b for b in content if isinstance(b, Mapping) and b.get("type") == kind]


def round_trip_problem(call: Mapping[str, Any], result: Any) -> str | None:
    """What is wrong with the request that answers a ``tool_use`` (Anthropic's shape), or ``None``."""
    messages = list(call.get("messages", []))
    answered = [i for i, m in enumerate(messages) if _blocks(m, "tool_result")]
    if any(role_of(m) == "tool" for m in messages):
        return "Anthropic has no 'tool' role: the tool_result block travels in a turn of the conversation."
    if not answered:
        return "The second request carries no tool_result block with what your function returned."
    index = answered[0]
    if role_of(messages[index]) != "user":
        return "The tool_result block is in the wrong turn: whose turn is it after Claude asks for a tool?"
    uses = _blocks(messages[index - 1], "tool_use") if index > 0 else []
    if not uses or role_of(messages[index - 1]) != "assistant":
        return (
            "Claude's turn with its tool_use block must go back into the conversation just before the "
            "tool_result: the API refuses a result that answers nothing."
        )
    block = _blocks(messages[index], "tool_result")[0]
    if block.get("tool_use_id") not in {u.get("id") for u in uses}:
        return "The tool_result must name the tool_use it answers: tool_use_id is that block's id."
    if not same_result(block.get("content"), result):
        return "The tool_result's content is not what your function returned: send its result, as JSON text."
    return None


def check_tool_round_trip(
    ask_with_tool: Callable[[Any, str], Any],
    function: Callable[..., Any],
    tool_name: str = "get_stock_price",
    arguments: Mapping[str, Any] | None = None,
) -> Verdict:
    """``ask_with_tool(client, question)``: offer the tool, answer Claude's ``tool_use`` with a ``tool_result``.

    The sandbox's Claude says a word, then asks for ``tool_name`` (``arguments`` default to
    ``{"ticker": "MSFT"}``); a second question needs no tool. Both must return the final text.
    """
    args = dict(arguments) if arguments is not None else {"ticker": "MSFT"}
    try:
        result = function(**args)
    except Exception as exc:  # the learner's function
        return _hint(f"Your function failed on {args}: {type(exc).__name__}: {exc}.")
    use_it, plain = f"Use {tool_name} to answer the check's question.", "Say hello; no tool is needed."
    answers = [
        {"match": use_it, "provider": "anthropic", "preamble": "Let me look that up.",
         "tool_call": {"name": tool_name, "arguments": args}, "text": "The tool said: {tool_result}"},
        {"match": plain, "provider": "anthropic", "text": f"Hello! {STANDIN}"},
    ]  # fmt: skip
    with Sandbox(answers) as box:
        outcome = run(ask_with_tool, box.anthropic(), use_it)
        calls = box.calls(MESSAGES)
        if len(calls) > 1 and (problem := round_trip_problem(calls[1], result)) is not None:
            return _hint(problem)  # said before the API's own refusal, which names less
        after = " (after Claude answered with a text block and a tool_use block)" if calls else ""
        if (hint := failed_run(outcome, "ask_with_tool", after)) is not None:
            return hint
        if not calls:
            return no_request(outcome, "ask_with_tool", "client.messages.create(...) with tools")
        if tool_name not in [t.get("name") for t in calls[0].get("tools") or []]:
            return _hint(f"The first request doesn't offer {tool_name}: pass the tools to the call.")
        if len(calls) == 1:
            return _hint(
                "Claude asked for the tool (stop_reason 'tool_use'), but nothing was sent back: run the "
                "function, answer with its result, and ask again."
            )
        if (problem := round_trip_problem(calls[1], result)) is not None:
            return _hint(problem)
        sent = _blocks(next(m for m in calls[1]["messages"] if _blocks(m, "tool_result")), "tool_result")[0]
        final = f"The tool said: {text_of(sent.get('content'))}"
        if (hint := returned_text(outcome.value, final, "ask_with_tool")) is not None:
            return hint
        outcome = run(ask_with_tool, box.anthropic(), plain)
        if (hint := failed_run(outcome, "ask_with_tool", " when Claude answered without a tool")) is not None:
            return hint
        if (hint := returned_text(outcome.value, f"Hello! {STANDIN}", "ask_with_tool")) is not None:
            return _hint(f"When Claude needs no tool: {hint.message.removeprefix('✗ Not yet. ')}")
    return _ok(
        f"tool_use → {tool_name} → tool_result → the final text, and a plain answer when no tool is needed."
    )
