"""Lesson 08's checks: the learner's research_topic, built step by step, tried on valid, wrong-shaped and wrapped
replies in the sandbox; structured outputs checked in the request the learner's code sends."""

from __future__ import annotations

import json
import re

import pytest
from pydantic import ValidationError

from apicourse import exercises as ex
from apicourse import models, research


def _text(message):
    return "".join(block.text for block in message.content if block.type == "text")


def summarize(client, topic):
    message = client.messages.create(
        model=models.anthropic(), max_tokens=research.SUMMARY_MAX_TOKENS, system=research.SUMMARY_SYSTEM,
        messages=[{"role": "user", "content": research.summary_prompt(topic)}],
    )  # fmt: skip
    return _text(message)


def summarize_own_words(client, topic):
    return client.messages.create(
        model="claude-haiku-4-5", max_tokens=800, system="You write short, factual research summaries.",
        messages=[{"role": "user", "content": f"Summarise what is known about {topic}."}],
    ).content[0].text  # fmt: skip


@pytest.mark.parametrize("answer", [summarize, summarize_own_words])
def test_summarize_accepts_right_answers(answer):
    assert ex.check_summarize(answer)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda c, t: None, "sends nothing yet"),
        (lambda c, t: c.messages.create(model="claude-sonnet-4-6", max_tokens=500,
                                        messages=[{"role": "user", "content": t}]).content[0].text, "no system prompt"),
        (lambda c, t: summarize(c, "quantum computing"), "carries the topic"),
        (lambda c, t: c.messages.create(model="claude-sonnet-4-6", max_tokens=500, system="Researcher.",
                                        messages=[{"role": "user", "content": t}]), "whole Message"),
    ],
)  # fmt: skip
def test_summarize_rejects_wrong_answers(answer, hint):
    verdict = ex.check_summarize(answer)
    assert not verdict and hint in verdict.message


def extract_loop(client, summary):
    messages = [{"role": "user", "content": research.extraction_prompt(summary)}]
    for _ in range(2):
        reply = _text(client.messages.create(model=models.anthropic(), max_tokens=1024, messages=messages))
        try:
            return research.ResearchNotes.model_validate_json(reply)
        except ValidationError as error:
            problem = str(error)
        messages.append({"role": "assistant", "content": reply})
        messages.append({"role": "user", "content": research.reask_prompt(problem)})
    raise research.ExtractionFailed([reply], [problem])


def extract_strips_fences(client, summary):
    def ask(messages):
        return client.messages.create(model="claude-sonnet-4-6", max_tokens=1024, messages=messages).content[0].text

    def parse(reply):
        match = re.search(r"\{.*\}", reply, re.DOTALL)
        return research.ResearchNotes.model_validate(json.loads(match.group(0) if match else reply))

    messages = [{"role": "user", "content": research.extraction_prompt(summary)}]
    reply = ask(messages)
    try:
        return parse(reply)
    except (ValueError, ValidationError) as error:
        messages.append({"role": "assistant", "content": [{"type": "text", "text": reply}]})
        messages.append({"role": "user", "content": f"That was not valid: {error}. Send only the JSON."})
        return parse(ask(messages)).model_dump()  # a dict is accepted too


@pytest.mark.parametrize("answer", [extract_loop, extract_strips_fences])
def test_extract_notes_accepts_right_answers(answer):
    assert ex.check_extract_notes(answer)


def _ask(client, messages):
    return client.messages.create(model="claude-sonnet-4-6", max_tokens=1024, messages=messages).content[0].text


def _json_loads_only(client, summary):
    return json.loads(_ask(client, [{"role": "user", "content": research.extraction_prompt(summary)}]))


def _no_reask(client, summary):
    reply = _ask(client, [{"role": "user", "content": research.extraction_prompt(summary)}])
    return research.ResearchNotes.model_validate_json(reply)


def _same_question_again(client, summary):
    messages = [{"role": "user", "content": research.extraction_prompt(summary)}]
    for _ in range(2):
        try:
            return research.ResearchNotes.model_validate_json(_ask(client, messages))
        except ValidationError:
            continue
    raise ValueError("no valid notes")


def _loops_until_valid(client, summary):
    messages = [{"role": "user", "content": research.extraction_prompt(summary)}]
    for _ in range(5):
        reply = _ask(client, messages)
        try:
            return research.ResearchNotes.model_validate_json(reply)
        except ValidationError as error:
            messages += [{"role": "assistant", "content": reply}, {"role": "user", "content": str(error)}]
    raise ValueError("no valid notes")


def _returns_none_on_failure(client, summary):
    messages = [{"role": "user", "content": research.extraction_prompt(summary)}]
    for _ in range(2):
        reply = _ask(client, messages)
        try:
            return research.ResearchNotes.model_validate_json(reply)
        except ValidationError as error:
            messages += [{"role": "assistant", "content": reply}, {"role": "user", "content": str(error)}]
    return None


def _without_summary(client, summary):
    return extract_loop(client, "the summary")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda c, s: None, "sends nothing yet"),
        (lambda c, s: research.ResearchNotes.model_validate_json(s), "raised ValidationError"),
        (_without_summary, "must carry the summary"),
        (_json_loads_only, "validate the reply"),
        (_no_reask, "gave up after one reply"),
        (_same_question_again, "continue the conversation"),
        (_loops_until_valid, "re-ask once, then give up"),
        (_returns_none_on_failure, "raise, so the caller knows"),
    ],
)
def test_extract_notes_rejects_wrong_answers(answer, hint):
    verdict = ex.check_extract_notes(answer)
    assert not verdict and hint in verdict.message


def research_tuple(client, topic):
    summary = summarize(client, topic)
    return summary, extract_loop(client, summary)


def research_object(client, topic):
    summary = summarize_own_words(client, topic)
    notes = extract_strips_fences(client, summary)
    return research.Research(topic, summary, research.ResearchNotes.model_validate(notes), attempts=1)


@pytest.mark.parametrize("answer", [research_tuple, research_object, lambda c, t: dict(zip(
    ("summary", "notes"), research_tuple(c, t)))])  # fmt: skip
def test_research_topic_accepts_right_answers(answer):
    assert ex.check_research_topic(answer)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda c, t: None, "sends nothing yet"),
        (lambda c, t: summarize(c, t), "made one call"),
        (lambda c, t: (summarize(c, t), extract_loop(c, research.summary_prompt(t))), "doesn't carry the first"),
        (lambda c, t: extract_loop(c, summarize(c, t)), "Return both results"),
        (lambda c, t: (summarize(c, t), None), "made one call"),
    ],
)
def test_research_topic_rejects_wrong_answers(answer, hint):
    verdict = ex.check_research_topic(answer)
    assert not verdict and hint in verdict.message


def structured_parse(client, summary):
    message = client.messages.parse(
        model=models.anthropic(), max_tokens=1024, output_format=research.ResearchNotes,
        messages=[{"role": "user", "content": research.extraction_prompt(summary)}],
    )  # fmt: skip
    return message.parsed_output


def structured_by_hand(client, summary):
    schema = research.ResearchNotes.model_json_schema()
    schema["additionalProperties"] = False
    message = client.messages.create(
        model=models.anthropic(), max_tokens=1024,
        output_config={"format": {"type": "json_schema", "schema": schema}},
        messages=[{"role": "user", "content": research.extraction_prompt(summary)}],
    )  # fmt: skip
    return research.ResearchNotes.model_validate_json(_text(message))


@pytest.mark.parametrize("answer", [structured_parse, structured_by_hand])
def test_extract_structured_accepts_right_answers(answer):
    assert ex.check_extract_structured(answer)


def _partial_schema(client, summary):
    schema = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}
    message = client.messages.create(
        model=models.anthropic(), max_tokens=1024, output_config={"format": {"type": "json_schema", "schema": schema}},
        messages=[{"role": "user", "content": research.extraction_prompt(summary)}],
    )  # fmt: skip
    return _text(message)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda c, s: None, "sends nothing yet"),
        (extract_loop, "doesn't ask for structured output"),
        (_partial_schema, "The schema has no applications"),
        (lambda c, s: (structured_parse(c, s), structured_parse(c, s))[0], "one call is enough"),
        (lambda c, s: c.messages.parse(model="claude-sonnet-4-6", max_tokens=900, output_format=research.ResearchNotes,
                                       messages=[{"role": "user", "content": research.extraction_prompt(s)}]),
         None),
    ],
)  # fmt: skip
def test_extract_structured_rejects_wrong_answers(answer, hint):
    verdict = ex.check_extract_structured(answer)
    if hint is None:  # the ParsedMessage itself: its parsed_output is the notes, accepted
        assert verdict
        return
    assert not verdict and hint in verdict.message
