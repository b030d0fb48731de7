"""Checks for lesson 08: the learner builds ``research_topic`` step by step, with their own Anthropic calls.

1. ``summarize(client, topic)`` — the first call: a system prompt, the topic → the summary's text;
2. ``extract_notes(client, summary)`` — the second call, its reply validated as
   :class:`~apicourse.research.ResearchNotes`, and asked again once when it is not valid;
3. ``research_topic(client, topic)`` — the chain: the first answer goes into the second call;
4. ``extract_structured(client, summary)`` — the modern fix: structured outputs (a JSON schema the API
   holds the model to), so there is nothing to re-ask.

Each runs in the sandbox (:mod:`apicourse.exercises.sandbox`): the replies are the check's own — a
valid one, one of the wrong shape, one wrapped in prose — so the re-ask is tried on purpose.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from apicourse.exercises.anthropic_calls import MESSAGES, returned_text
from apicourse.exercises.basics import Verdict, _hint, _ok
from apicourse.exercises.openai_calls import STANDIN, failed_run, no_request
from apicourse.exercises.sandbox import Sandbox, describe, role_of, run, text_of
from apicourse.research import ResearchNotes

TOPIC = "tide-pool ecology"
SUMMARY = f"Tide pools are rocky hollows the sea refills twice a day; they shelter anemones and crabs. {STANDIN}"
VALID = {
    "title": "Tide-pool ecology",
    "key_points": ["Pools are refilled by every tide", "Life there survives heat and salt", "Crabs hide in them"],
    "applications": ["Teaching ecology on a beach walk"],
    "challenges": ["Trampling by visitors"],
    "confidence": "medium",
}
WRONG_SHAPE = {**VALID, "key_points": ["Pools are refilled by every tide"], "confidence": "very high"}
WRAPPED = f"Sure! Here is the JSON you asked for:\n\n```json\n{json.dumps(VALID, indent=2)}\n```"
NOT_JSON = "I'm sorry, I can't turn that into JSON."
UNEXPECTED = f"This request is not one the check expected. {STANDIN}"


def _notes(value: Any) -> ResearchNotes | None:
    """The learner's result as notes: a ResearchNotes, or a dict/JSON text that validates as one."""
    try:
        if isinstance(value, ResearchNotes):
            return value
        if isinstance(value, str):
            return ResearchNotes.model_validate_json(value)
        if isinstance(value, Mapping):
            return ResearchNotes.model_validate(dict(value))
        if hasattr(value, "model_dump"):
            return ResearchNotes.model_validate(value.model_dump())
    except ValidationError:
        return None
    return None


# --------------------------------------------------------------------------- step 1


def check_summarize(summarize: Callable[[Any, str], Any]) -> Verdict:
    """``summarize(client, topic)``: a Messages call with a system prompt about ``topic`` → the summary text."""
    with Sandbox([{"match": TOPIC, "provider": "anthropic", "text": SUMMARY}]) as box:
        outcome = run(summarize, box.anthropic(), TOPIC)
        if (hint := failed_run(outcome, "summarize")) is not None:
            return hint
        calls = box.calls(MESSAGES)
        if not calls:
            return no_request(outcome, "summarize", "the first client.messages.create(...)")
        body = calls[0]
        if not text_of(body.get("system")).strip():
            return _hint("There's no system prompt: step 1 tells the model to act as a research assistant.")
        if not any(TOPIC in text_of(m.get("content")) for m in body.get("messages", [])):
            return _hint(f"No message carries the topic summarize was given (the check gave it {TOPIC!r}).")
        if (hint := returned_text(outcome.value, SUMMARY, "summarize")) is not None:
            return hint
    return _ok("Step 1 works: a system prompt, the topic, and the summary's text back.")


# --------------------------------------------------------------------------- step 2: validate, re-ask once

EXTRACTION_CASES = [  # (label, first reply, reply to a re-ask, what must happen)
    ("valid JSON", json.dumps(VALID), NOT_JSON, "notes"),
    ("JSON of the wrong shape (one key point, confidence 'very high')", json.dumps(WRONG_SHAPE),
     json.dumps(VALID), "re-ask"),  # fmt: skip
    ("JSON wrapped in a sentence and a code fence", WRAPPED, json.dumps(VALID), "notes"),
    ("two invalid replies in a row", json.dumps(WRONG_SHAPE), NOT_JSON, "raise"),
]


def _reask_problem(calls: list[Any], first_reply: str) -> str | None:
    """What is wrong with the second request of a re-ask, or ``None``."""
    messages = calls[1].get("messages", [])
    replies = [i for i, m in enumerate(messages) if role_of(m) == "assistant"]
    if not replies or text_of(messages[replies[-1]].get("content")).strip() != first_reply.strip():
        return (
            "The re-ask should continue the conversation: the model's own reply goes back in, then a "
            "message saying what was wrong with it."
        )
    after = messages[replies[-1] + 1 :]
    if not after or role_of(after[-1]) != "user" or not text_of(after[-1].get("content")).strip():
        return "After the model's reply, add a user message that says what was wrong and asks again."
    return None


def _extraction_case(extract_notes: Callable[..., Any], label: str, first: str, second: str, must: str) -> str | None:
    answers = [{"match": "rocky hollows", "provider": "anthropic", "text": first}]
    with Sandbox(answers, default=second) as box:
        outcome = run(extract_notes, box.anthropic(), SUMMARY)
        calls = box.calls(MESSAGES)
    if not calls:
        hint = failed_run(outcome, "extract_notes")
        if hint is None:
            hint = no_request(outcome, "extract_notes", "the extraction call")
        return hint.message.removeprefix("✗ Not yet. ")
    if not any("rocky hollows" in text_of(m.get("content")) for m in calls[0].get("messages", [])):
        return "The extraction request must carry the summary extract_notes was given."
    if len(calls) > 2:
        return f"After {label} it asked {len(calls)} times: re-ask once, then give up."
    if len(calls) == 2 and (problem := _reask_problem(calls, first)) is not None:
        return problem
    if must == "raise":
        if outcome.error is None:
            return f"After {label} it returned {describe(outcome.value)}: raise, so the caller knows it failed."
        return None
    after = f" after {label}"
    if len(calls) == 1 and outcome.error is not None and must == "re-ask":
        return f"It gave up after one reply ({label}): ask once more, saying what was wrong."
    if (hint := failed_run(outcome, "extract_notes", after)) is not None:
        return hint.message.removeprefix("✗ Not yet. ")
    notes = _notes(outcome.value)
    if notes is None:
        if must == "re-ask" and len(calls) == 1:
            return f"It accepted {label}: validate the reply against research.ResearchNotes before using it."
        return f"After {label} it returned {describe(outcome.value)}, not valid ResearchNotes."
    if notes != ResearchNotes.model_validate(VALID):
        return f"After {label} it returned notes that are not the ones in the model's valid reply."
    return None


def check_extract_notes(extract_notes: Callable[[Any, str], Any]) -> Verdict:
    """``extract_notes(client, summary)`` → :class:`ResearchNotes`, re-asking once, raising after two bad replies.

    Tried on a valid reply, one of the wrong shape, one wrapped in prose (stripping the fence or
    re-asking are both fine), and two bad replies in a row.
    """
    for label, first, second, must in EXTRACTION_CASES:
        if (problem := _extraction_case(extract_notes, label, first, second, must)) is not None:
            return _hint(problem)
    return _ok("It validates every reply, re-asks once with what was wrong, and raises when that fails too.")


# --------------------------------------------------------------------------- step 3: the chain


def check_research_topic(research_topic: Callable[[Any, str], Any]) -> Verdict:
    """``research_topic(client, topic)`` → the summary and the notes (a tuple, a dict or an object with both)."""
    answers = [
        {"match": "rocky hollows", "provider": "anthropic", "text": json.dumps(VALID)},
        {"match": TOPIC, "provider": "anthropic", "text": SUMMARY},
    ]
    with Sandbox(answers, default=UNEXPECTED) as box:
        outcome = run(research_topic, box.anthropic(), TOPIC)
        calls = box.calls(MESSAGES)
    if len(calls) >= 2 and not any("rocky hollows" in text_of(m.get("content")) for m in calls[1]["messages"]):
        return _hint("The second call doesn't carry the first call's answer: the summary is what it extracts from.")
    if (hint := failed_run(outcome, "research_topic")) is not None:
        return hint
    if not calls:
        return no_request(outcome, "research_topic", "summarize, then extract_notes")
    if len(calls) < 2:
        return _hint("research_topic made one call; the chain has two: the summary, then the extraction.")
    value = outcome.value
    if isinstance(value, tuple | list) and len(value) == 2:
        summary, notes = value
    elif isinstance(value, Mapping):
        summary, notes = value.get("summary"), value.get("notes")
    else:
        summary, notes = getattr(value, "summary", None), getattr(value, "notes", None)
    if summary != SUMMARY:
        return _hint(f"Return both results: the summary (as text) and the notes; got {describe(value)}.")
    if _notes(notes) != ResearchNotes.model_validate(VALID):
        return _hint("The notes it returned are not the validated notes from the second call.")
    return _ok("The chain works: topic → summary → validated notes, each call built on the one before.")


# --------------------------------------------------------------------------- step 4: structured outputs


# Structured outputs, as the pinned SDKs send them: anthropic resources/messages/messages.py (Messages.parse turns
# output_format=<pydantic model> into output_config={"format": {"type": "json_schema", "schema": ...}}; its
# lib/_parse/_transform.py moves constraints the API does not enforce, e.g. minItems, into the description);
# openai lib/_parsing/_completions.py (type_to_response_format_param: {"type": "json_schema", "json_schema":
# {"name", "schema", "strict": True}}).
def _schema_in(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    fmt = (body.get("output_config") or {}).get("format") or body.get("output_format") or {}
    return fmt.get("schema") if fmt.get("type") == "json_schema" else None


def check_extract_structured(extract_structured: Callable[[Any, str], Any]) -> Verdict:
    """``extract_structured(client, summary)`` asks for JSON that follows ResearchNotes' schema → the notes.

    ``client.messages.parse(..., output_format=ResearchNotes)`` or a hand-written
    ``output_config={"format": {"type": "json_schema", "schema": ...}}`` both pass.
    """
    answers = [{"match": "rocky hollows", "provider": "anthropic", "text": json.dumps(VALID)}]
    with Sandbox(answers) as box:
        outcome = run(extract_structured, box.anthropic(), SUMMARY)
        calls = box.calls(MESSAGES)
    if (hint := failed_run(outcome, "extract_structured")) is not None:
        return hint
    if not calls:
        return no_request(outcome, "extract_structured", "one call with a JSON schema for the answer")
    schema = _schema_in(calls[0])
    if schema is None:
        return _hint("The request doesn't ask for structured output: give the API the JSON schema to hold the "
                     "model to (Anthropic calls it the output format).")  # fmt: skip
    missing = sorted(set(ResearchNotes.model_fields) - set(schema.get("properties") or {}))
    if missing:
        return _hint(f"The schema has no {', '.join(missing)}: build it from research.ResearchNotes.")
    if len(calls) > 1:
        return _hint("With structured outputs one call is enough: the API holds the model to the schema.")
    notes = _notes(getattr(outcome.value, "parsed_output", outcome.value))
    if notes != ResearchNotes.model_validate(VALID):
        return _hint(f"It returned {describe(outcome.value)}; return the notes (ResearchNotes).")
    return _ok("One call, a schema the API enforces, and notes that need no re-ask.")
