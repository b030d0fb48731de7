"""Checks for lesson 05's exercises: the learner writes OpenAI calls, and each check runs them in a sandbox.

Every check hands the learner's function an ``openai.OpenAI`` client of its own that talks to the
course's local stand-in (:class:`~apicourse.exercises.sandbox.Sandbox`), then reads the requests the
function sent and what it returned. Nothing leaves the machine and no model answers: the replies are
the check's own, written for it.

    >>> def ask_tutor(client, question):
    ...     response = client.chat.completions.create(
    ...         model="gpt-4o", max_completion_tokens=300,
    ...         messages=[{"role": "system", "content": "You are a patient Python tutor."},
    ...                   {"role": "user", "content": question}])
    ...     return response.choices[0].message.content
    >>> v = check_ask_tutor(ask_tutor)
    ✓ It sends a system prompt, the question and a token limit, and returns the answer's text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from apicourse.exercises.basics import Verdict, _hint, _ok
from apicourse.exercises.sandbox import Outcome, Sandbox, describe, role_of, run, text_of

CHAT = "/v1/chat/completions"
STANDIN = "(offline stand-in, written for this check)"


def failed_run(outcome: Outcome, name: str, after: str = "") -> Verdict | None:
    """A hint when the learner's function raised or never finished; ``None`` when it returned."""
    if not outcome.finished:
        return _hint(f"{name} was still running after 20 s. Does every loop in it end?")
    if outcome.error is not None:
        error = outcome.error
        return _hint(f"{name} raised {type(error).__name__}: {error_detail(error)[:200]}{after}")
    return None


def error_detail(error: BaseException) -> str:
    """An SDK error's own message (the provider's ``error.message``), else ``str(error)``."""
    body = getattr(error, "body", None)
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        if isinstance(inner, Mapping) and isinstance(inner.get("message"), str):
            return inner["message"]
    return getattr(error, "message", None) or str(error)


def no_request(outcome: Outcome, name: str, call: str) -> Verdict:
    """The hint when the function sent nothing through the client it was given."""
    if outcome.value is None:
        return _hint(f"{name} sends nothing yet: write its body ({call}, as in the lesson above).")
    return _hint(
        f"{name} returned {describe(outcome.value)} without a request through the client it was given: "
        "use its `client` parameter (the check passes a client of its own)."
    )


def token_limit_hint(body: Mapping[str, Any]) -> Verdict | None:
    """OpenAI chat: a limit is set, with ``max_completion_tokens`` rather than the deprecated ``max_tokens``."""
    # openai 3.x, types/chat/completion_create_params.py: max_tokens "is now deprecated in favor of
    # max_completion_tokens, and is not compatible with o-series models".
    if "max_completion_tokens" in body:
        return None
    if "max_tokens" in body:
        return _hint(
            "max_tokens is deprecated for chat completions and OpenAI's reasoning models refuse it: "
            "use its successor, max_completion_tokens."
        )
    return _hint("Nothing caps the length of the answer (or its cost): give the call a token limit.")


def returned_text(value: Any, expected: str, name: str) -> Verdict | None:
    """A hint unless ``value`` is the answer's text (a str)."""
    if isinstance(value, str) and value.strip() == expected.strip():
        return None
    if hasattr(value, "choices"):
        return _hint(f"{name} returns the whole response object; return only the text of the answer.")
    if hasattr(value, "content") or isinstance(value, Mapping):
        return _hint(f"{name} returns a message; return the text inside it.")
    if value is None:
        return _hint(f"{name} returns None: end it with return and the answer's text.")
    return _hint(f"{name} returned {describe(value)}, which is not the text of the answer it got.")


# --------------------------------------------------------------------------- a chat call with a system prompt

TUTOR_QUESTIONS = {
    "What is a Python decorator, in one sentence?": "A decorator is a function that wraps another function.",
    "Why do web APIs answer in JSON?": "Because every language can read and write JSON.",
}


def check_ask_tutor(ask_tutor: Callable[[Any, str], Any]) -> Verdict:
    """``ask_tutor(client, question)``: one chat completion with a system prompt and a token limit → the text.

    Run with two questions; the system prompt may be a ``system`` or ``developer`` message.
    """
    answers = [{"match": q, "provider": "openai", "text": f"{a} {STANDIN}"} for q, a in TUTOR_QUESTIONS.items()]
    with Sandbox(answers) as box:
        for question, answer in TUTOR_QUESTIONS.items():
            before = len(box.calls(CHAT))
            outcome = run(ask_tutor, box.openai(), question)
            calls = box.calls(CHAT)[before:]
            if not calls:
                failure = failed_run(outcome, "ask_tutor")  # a Verdict that failed is falsy: test for None
                return failure if failure is not None else no_request(outcome, "ask_tutor", "client.chat.completions.create(...)")
            messages = calls[-1].get("messages", [])
            roles = [role_of(m) for m in messages]
            if roles and roles[0] not in ("system", "developer"):
                if "system" in roles or "developer" in roles:
                    return _hint("The system message should come first, before the user's.")
                return _hint(
                    "There's no system prompt: instructions for the whole conversation travel in a "
                    "message of their own, with its own role, before the user's."
                )
            if not text_of(messages[0].get("content")).strip():
                return _hint("The system message is empty: tell the model how to behave.")
            if not any(role_of(m) == "user" and question in text_of(m.get("content")) for m in messages):
                return _hint(
                    f"No user message carries the question ask_tutor was given (the check asked {question!r})."
                )
            if (hint := token_limit_hint(calls[-1])) is not None:
                return hint  # what was sent is judged first: the API's refusal of it names less
            if (hint := failed_run(outcome, "ask_tutor")) is not None:
                return hint
            if (hint := returned_text(outcome.value, f"{answer} {STANDIN}", "ask_tutor")) is not None:
                return hint
    return _ok("It sends a system prompt, the question and a token limit, and returns the answer's text.")


# --------------------------------------------------------------------------- the tool-call loop


def example_arguments(parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments for a tool from its JSON Schema: ``examples``, ``default`` or ``enum`` first, else a sample.

    >>> example_arguments({"type": "object", "properties": {
    ...     "city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    ...     "days": {"type": "integer"}}, "required": ["city"]})
    {'city': 'Paris', 'unit': 'celsius', 'days': 1}
    """
    samples = {"string": "Paris", "integer": 1, "number": 1.5, "boolean": True, "array": [], "object": {}}
    arguments = {}
    for name, schema in (parameters.get("properties") or {}).items():
        if schema.get("examples"):
            arguments[name] = schema["examples"][0]
        elif "default" in schema:
            arguments[name] = schema["default"]
        elif schema.get("enum"):
            arguments[name] = schema["enum"][0]
        else:
            arguments[name] = samples.get(schema.get("type", "string"), "Paris")
    return arguments


def tool_problem(tool: Any) -> str | None:
    """What is wrong with an OpenAI tool definition, or ``None``."""
    if not isinstance(tool, Mapping) or tool.get("type") != "function" or not isinstance(tool.get("function"), Mapping):
        return 'A tool is a dict {"type": "function", "function": {...}} (look at the lesson\'s tools list).'
    function = tool["function"]
    if not isinstance(function.get("name"), str) or not function["name"]:
        return "Your tool's function needs a name."
    if not function.get("description"):
        return "Give your tool a description: it is how the model knows when to use it."
    parameters = function.get("parameters")
    if not isinstance(parameters, Mapping) or parameters.get("type") != "object":
        return "Describe the tool's arguments as a JSON Schema object under 'parameters'."
    return None


def same_result(content: Any, result: Any) -> bool:
    """Whether a tool message's ``content`` carries ``result`` (as JSON, or as its ``str``)."""
    text = text_of(content)
    try:
        return bool(json.loads(text) == json.loads(json.dumps(result, default=str)))
    except (TypeError, ValueError):
        return text.strip() == str(result).strip()


def tool_round_trip_problem(call: Mapping[str, Any], result: Any) -> str | None:
    """What is wrong with the request that sends a tool's result back (OpenAI's shape), or ``None``."""
    messages = call.get("messages", [])
    asked = [i for i, m in enumerate(messages) if role_of(m) == "assistant" and m.get("tool_calls")]
    answers = [i for i, m in enumerate(messages) if role_of(m) == "tool"]
    if not answers:
        return "The second request has no message with the tool's result (OpenAI gives it a role of its own)."
    if not asked or asked[0] > answers[0]:
        return (
            "The model's message that asked for the tool (with its tool_calls) must go back into the "
            "conversation before the tool's answer: the API refuses an answer to a call it can't see."
        )
    ids = {c.get("id") for c in messages[asked[0]]["tool_calls"]}
    reply = messages[answers[0]]
    if reply.get("tool_call_id") not in ids:
        return "The tool message must name the call it answers: tool_call_id is the id of that call."
    if not same_result(reply.get("content"), result):
        return "The tool message's content is not what your function returned: send its result, as JSON text."
    return None


def check_tool_loop(
    ask_with_tool: Callable[[Any, str], Any],
    tool: Mapping[str, Any],
    function: Callable[..., Any],
    arguments: Mapping[str, Any] | None = None,
) -> Verdict:
    """``ask_with_tool(client, question)`` offers ``tool``, runs ``function`` when asked, and returns the final text.

    The sandbox asks for the tool once (with ``arguments``, or a sample from its schema) and answers a
    second question without it: both must work.
    """
    if (problem := tool_problem(tool)) is not None:
        return _hint(problem)
    name = tool["function"]["name"]
    args = dict(arguments) if arguments is not None else example_arguments(tool["function"]["parameters"])
    try:
        result = function(**args)
    except Exception as exc:  # the learner's function
        return _hint(
            f"Your function failed on {args}: {type(exc).__name__}: {exc}. "
            "Pass arguments={...} that it accepts to the check."
        )
    use_it, plain = f"Use {name} to answer the check's question.", "Say hello; no tool is needed."
    answers = [
        {"match": use_it, "provider": "openai", "tool_call": {"name": name, "arguments": args},
         "text": "The tool said: {tool_result}"},
        {"match": plain, "provider": "openai", "text": f"Hello! {STANDIN}"},
    ]  # fmt: skip
    with Sandbox(answers) as box:
        outcome = run(ask_with_tool, box.openai(), use_it)
        calls = box.calls(CHAT)
        if len(calls) > 1 and (problem := tool_round_trip_problem(calls[1], result)) is not None:
            return _hint(problem)  # said before the API's own refusal, which names less
        after = " (after the model asked for the tool)" if calls else ""
        if (hint := failed_run(outcome, "ask_with_tool", after)) is not None:
            return hint
        if not calls:
            return no_request(outcome, "ask_with_tool", "client.chat.completions.create(...)")
        offered = [t.get("function", {}).get("name") for t in calls[0].get("tools") or []]
        if name not in offered:
            return _hint(f"The first request doesn't offer {name}: pass your tool to the call.")
        if len(calls) == 1:
            return _hint(
                "The model asked for your tool, but nothing was sent back: run the function for each "
                "call it asked for, add the results to the conversation, and ask again."
            )
        if (problem := tool_round_trip_problem(calls[1], result)) is not None:
            return _hint(problem)
        reply = next(m for m in calls[1]["messages"] if role_of(m) == "tool")
        final = f"The tool said: {text_of(reply['content'])}"
        if (hint := returned_text(outcome.value, final, "ask_with_tool")) is not None:
            return hint
        outcome = run(ask_with_tool, box.openai(), plain)
        if (hint := failed_run(outcome, "ask_with_tool", " when the model answered without a tool")) is not None:
            return hint
        if (hint := returned_text(outcome.value, f"Hello! {STANDIN}", "ask_with_tool")) is not None:
            return _hint(f"When the model needs no tool: {hint.message.removeprefix('✗ Not yet. ')}")
    return _ok(f"The loop works: the model asked for {name}, your code ran it, sent the result back and "
               "returned the final answer — and a question that needs no tool is answered directly.")


# --------------------------------------------------------------------------- a streaming loop

STREAM_QUESTION = "Give two tips for naming variables."
STREAM_TEXT = (
    "1. Name a variable after what it holds, not its type. 2. Prefer a longer clear name to a short puzzle. "
    + STANDIN
)


def _text_and_usage(value: Any) -> tuple[Any, Any]:
    if isinstance(value, Mapping):
        return value.get("text"), value.get("usage")
    if isinstance(value, tuple | list) and len(value) == 2:
        return value[0], value[1]
    return getattr(value, "text", None), getattr(value, "usage", None)


def _total(usage: Any) -> Any:
    if isinstance(usage, int):
        return usage
    if isinstance(usage, Mapping):
        return usage.get("total_tokens")
    return getattr(usage, "total_tokens", None)


def check_stream_answer(stream_answer: Callable[[Any, str], Any]) -> Verdict:
    """``stream_answer(client, question)`` streams a chat completion and returns ``(text, usage)``.

    ``text`` is the whole answer put together from the chunks; ``usage`` the final token counts (the
    usage object, its dict, or just ``total_tokens``).
    """
    answers = [{"match": STREAM_QUESTION, "provider": "openai", "text": STREAM_TEXT}]
    with Sandbox(answers) as box:
        outcome = run(stream_answer, box.openai(), STREAM_QUESTION)
        if (hint := failed_run(outcome, "stream_answer")) is not None:
            return hint
        calls = box.calls(CHAT)
        if not calls:
            return no_request(outcome, "stream_answer", "a streamed chat completion")
        body = calls[0]
        if body.get("stream") is not True:
            return _hint("The request doesn't ask for a stream: the answer came back in one piece.")
        if not (body.get("stream_options") or {}).get("include_usage"):
            return _hint("A stream carries no token counts unless you ask for them in the request.")
        if (hint := token_limit_hint(body)) is not None:
            return hint
        plain = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
        try:  # the same request without streaming: the text and usage the stream must add up to
            reference = box.openai().chat.completions.create(**plain)
        except Exception as exc:  # e.g. an option that only a stream accepts
            return _hint(f"The check could not repeat your request without streaming: {error_detail(exc)[:200]}")
    text, usage = _text_and_usage(outcome.value)
    expected = reference.choices[0].message.content
    if not isinstance(text, str):
        return _hint("Return two things: the text you put together from the chunks, and the usage.")
    if text != expected:
        if text and text in expected:
            return _hint("That is only part of the answer: add each chunk's new text to what you have so far.")
        return _hint(f"The text {describe(text)} is not the streamed answer: collect each chunk's delta content.")
    if usage is None:
        return _hint("The usage is None: it arrives in the stream's last chunk, the one whose choices are empty.")
    if _total(usage) != reference.usage.total_tokens:
        return _hint(f"{describe(usage)} is not the stream's final usage (its total_tokens is different).")
    return _ok(f"Streamed, collected ({len(text)} characters) and counted: {reference.usage.total_tokens} tokens.")
