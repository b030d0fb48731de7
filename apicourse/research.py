"""The capstone's research assistant: a two-step prompt chain, made robust.

Step 1 asks a model for a research summary of a topic; step 2 asks it to extract key facts from
that summary as JSON. The seed's version trusted step 2 blindly (``json.loads`` on whatever came
back). Here the JSON is **validated** against a pydantic model, and when the model answers with
something else (prose around the JSON, a code fence, a missing key) it is **asked again once**,
with the validation error in the follow-up message.

The chain talks to a model through a :data:`Chat` function — ``chat(messages, system=...,
max_tokens=...) -> str`` — so the same code runs on OpenAI or Anthropic, and on a fake in tests::

    >>> def fake_chat(messages, *, system=None, max_tokens=1024):
    ...     if "Extract key information" in messages[0]["content"]:
    ...         return ('{"title": "T", "key_points": ["a", "b", "c"], "applications": ["x"], '
    ...                 '"challenges": ["y"], "confidence": "high"}')
    ...     return "A summary."
    >>> result = research_topic("tides", chat=fake_chat)
    >>> result.notes.title, result.attempts
    ('T', 1)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, ValidationError

Provider = Literal["openai", "anthropic"]
PROVIDERS: tuple[Provider, ...] = ("openai", "anthropic")
"""The providers the assistant can run on."""

SUMMARY_SYSTEM = (
    "You are a research assistant. Provide accurate, well-organized summaries with specific facts "
    "and data points when available."
)
"""The seed's system prompt for step 1."""

SUMMARY_MAX_TOKENS = 2048
EXTRACTION_MAX_TOKENS = 1024


class Chat(Protocol):
    """Anything that sends a conversation to a model and returns the reply text."""

    def __call__(
        self, messages: list[dict[str, str]], *, system: str | None = None, max_tokens: int = 1024
    ) -> str: ...


class ResearchNotes(BaseModel):
    """The structured result of step 2: what the JSON must look like."""

    title: str = Field(min_length=1, description="a concise title")
    key_points: list[str] = Field(min_length=3, max_length=5, description="3-5 main findings")
    applications: list[str] = Field(min_length=1, description="practical applications")
    challenges: list[str] = Field(min_length=1, description="current challenges or limitations")
    confidence: Literal["high", "medium", "low"] = Field(
        description="how well-established the information is"
    )


@dataclass(frozen=True)
class Rejected:
    """A reply that failed validation, and why."""

    reply: str
    reason: str


@dataclass
class Research:
    """One run of the chain: the summary, the validated notes, and how it went."""

    topic: str
    summary: str
    notes: ResearchNotes
    attempts: int
    """How many extraction replies it took (1 = valid at once, 2 = after one re-ask)."""
    rejected: list[Rejected] = field(default_factory=list)
    """The extraction replies that failed validation, with the reason, for the curious."""

    def to_markdown(self) -> str:
        """The notes as a short Markdown report (for ``IPython.display.Markdown``).

        >>> notes = ResearchNotes(title="T", key_points=["a", "b", "c"], applications=["x"],
        ...                       challenges=["y"], confidence="low")
        >>> print(Research("t", "s", notes, 1).to_markdown().splitlines()[0])
        ### T
        """
        n = self.notes

        def bullets(items: list[str]) -> str:
            return "\n".join(f"- {item}" for item in items)

        return (
            f"### {n.title}\n\n*Confidence: {n.confidence}*\n\n"
            f"**Key points**\n\n{bullets(n.key_points)}\n\n"
            f"**Applications**\n\n{bullets(n.applications)}\n\n"
            f"**Challenges**\n\n{bullets(n.challenges)}\n"
        )


class ExtractionFailed(ValueError):
    """The model did not return valid notes, even after the re-ask."""

    def __init__(self, replies: list[str], reasons: list[str]) -> None:
        self.replies, self.reasons = replies, reasons
        super().__init__(
            f"no valid JSON after {len(replies)} replies; last problem: {reasons[-1] if reasons else '?'}"
        )


def summary_prompt(topic: str) -> str:
    """Step 1's user message (the seed's wording).

    >>> summary_prompt("tides")
    'Write a comprehensive research summary about: tides'
    """
    return f"Write a comprehensive research summary about: {topic}"


def extraction_prompt(summary: str) -> str:
    """Step 2's user message (the seed's wording): the keys the JSON must have, then the summary."""
    return (
        "Extract key information from this research summary and return it as JSON with these keys:\n"
        '- "title": a concise title\n'
        '- "key_points": array of 3-5 main findings\n'
        '- "applications": array of practical applications\n'
        '- "challenges": array of current challenges or limitations\n'
        '- "confidence": "high", "medium", or "low" based on how well-established the information is\n'
        "\n"
        f"Summary:\n{summary}\n"
        "\n"
        "Return only valid JSON, no other text."
    )


def reask_prompt(problem: str) -> str:
    """The follow-up message when a reply was not valid: say exactly what was wrong.

    >>> reask_prompt("not JSON").startswith("Your reply could not be used")
    True
    """
    return (
        f"Your reply could not be used: {problem}\n"
        "Reply again with only the JSON object: no introduction, no Markdown code fence, "
        "nothing after the closing brace."
    )


def parse_notes(text: str) -> ResearchNotes:
    """Validate a reply as :class:`ResearchNotes`; raise ``ValueError`` saying what is wrong.

    Strict on purpose: the prompt asked for *only* JSON, so prose or a code fence around it is a
    failure to report (and re-ask), not something to guess around.

    >>> parse_notes('{"title": "T", "key_points": ["a","b","c"], "applications": ["x"], '
    ...             '"challenges": ["y"], "confidence": "medium"}').confidence
    'medium'
    >>> parse_notes('Sure! {"a": 1}')
    Traceback (most recent call last):
    ...
    ValueError: the reply wraps the JSON in other text (it begins 'Sure! {"a": 1}')
    """
    stripped = text.strip()
    try:
        data: Any = json.loads(stripped)
    except json.JSONDecodeError as error:
        if re.search(r"\{.*\}", stripped, re.DOTALL):
            first_line = stripped.splitlines()[0]
            start = first_line if len(first_line) <= 40 else first_line[:40].rsplit(" ", 1)[0] + " …"
            raise ValueError(f"the reply wraps the JSON in other text (it begins {start!r})") from error
        raise ValueError(f"the reply is not JSON ({error.msg} at character {error.pos})") from error
    try:
        return ResearchNotes.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'the reply'}: {e['msg']}" for e in error.errors()
        )
        raise ValueError(f"the JSON does not match the expected shape ({problems})") from error


def extract_notes(chat: Chat, summary: str, *, reasks: int = 1) -> tuple[ResearchNotes, int, list[Rejected]]:
    """Step 2: ask for the notes as JSON, validate, and re-ask up to ``reasks`` times.

    Returns ``(notes, attempts, rejected)``; raises :class:`ExtractionFailed` when no reply is valid.

    >>> replies = iter(['Sure! {"title": "T"}', '{"title": "T", "key_points": ["a","b","c"], '
    ...                 '"applications": ["x"], "challenges": ["y"], "confidence": "low"}'])
    >>> notes, attempts, rejected = extract_notes(lambda m, **kw: next(replies), "a summary")
    >>> attempts, len(rejected)
    (2, 1)
    """
    messages: list[dict[str, str]] = [{"role": "user", "content": extraction_prompt(summary)}]
    replies: list[str] = []
    reasons: list[str] = []
    for _ in range(reasks + 1):
        reply = chat(list(messages), max_tokens=EXTRACTION_MAX_TOKENS)
        replies.append(reply)
        try:
            return parse_notes(reply), len(replies), [Rejected(r, why) for r, why in zip(replies, reasons)]
        except ValueError as problem:
            reasons.append(str(problem))
            messages += [
                {"role": "assistant", "content": reply},
                {"role": "user", "content": reask_prompt(str(problem))},
            ]
    raise ExtractionFailed(replies, reasons)


def research_topic(
    topic: str,
    provider: Provider = "anthropic",
    *,
    chat: Chat | None = None,
    reasks: int = 1,
) -> Research:
    """Run the whole chain on one topic: summary, then validated notes.

    ``provider`` picks OpenAI or Anthropic (with the course's model for it, see
    :mod:`apicourse.models`); ``chat`` replaces the provider entirely (tests, other models).
    """
    if chat is None:
        chat = chat_for(provider)
    summary = chat(
        [{"role": "user", "content": summary_prompt(topic)}],
        system=SUMMARY_SYSTEM,
        max_tokens=SUMMARY_MAX_TOKENS,
    )
    notes, attempts, rejected = extract_notes(chat, summary, reasks=reasks)
    return Research(topic=topic, summary=summary, notes=notes, attempts=attempts, rejected=rejected)


def anthropic_chat(client: Any, model: str) -> Chat:
    """A :data:`Chat` backed by Anthropic's Messages API (``client`` is ``anthropic.Anthropic()``)."""

    def chat(messages: list[dict[str, str]], *, system: str | None = None, max_tokens: int = 1024) -> str:
        extra: dict[str, Any] = {"system": system} if system else {}
        response = client.messages.create(model=model, max_tokens=max_tokens, messages=messages, **extra)
        return "".join(block.text for block in response.content if block.type == "text")

    return chat


def openai_chat(client: Any, model: str) -> Chat:
    """A :data:`Chat` backed by OpenAI's Chat Completions (``client`` is ``openai.OpenAI()``)."""

    def chat(messages: list[dict[str, str]], *, system: str | None = None, max_tokens: int = 1024) -> str:
        full = ([{"role": "system", "content": system}] if system else []) + messages
        # max_completion_tokens: the pinned SDK documents max_tokens as deprecated and refused by reasoning
        # models (the course's defaults are reasoning models; see apicourse/standin/rules.py)
        response = client.chat.completions.create(model=model, max_completion_tokens=max_tokens, messages=full)
        return response.choices[0].message.content or ""

    return chat


def chat_for(provider: Provider, *, model: str | None = None, timeout: float = 60.0) -> Chat:
    """The :data:`Chat` for a provider, with its SDK client (a timeout set) and the course's model.

    >>> chat_for("gemini")
    Traceback (most recent call last):
    ...
    ValueError: provider must be one of ('openai', 'anthropic'), not 'gemini'
    """
    if provider not in PROVIDERS:
        raise ValueError(f"provider must be one of {PROVIDERS}, not {provider!r}")
    from apicourse import models

    if provider == "openai":
        import openai

        return openai_chat(openai.OpenAI(timeout=timeout), model or models.openai())
    import anthropic

    return anthropic_chat(anthropic.Anthropic(timeout=timeout), model or models.anthropic())


def main(argv: list[str] | None = None) -> int:
    """The course text's command-line form: ``python -m apicourse.research "a topic"``.

    Offline by default (every provider replays, whatever keys are in ``.env``, so it costs nothing: a topic
    nobody recorded is answered by the offline stand-in, labelled); ``--live`` uses your keys.

    >>> main(["--help"])  # doctest: +SKIP
    """
    import argparse
    import os

    parser = argparse.ArgumentParser(
        prog="python -m apicourse.research",
        description="Research a topic: a summary, then its key points as validated JSON (the course's capstone).",
    )
    parser.add_argument("topic", help='what to research, e.g. "quantum computing applications in 2026"')
    parser.add_argument("--provider", choices=PROVIDERS, default="anthropic")
    parser.add_argument("--live", action="store_true", help="call the real API with the key in .env (costs money)")
    args = parser.parse_args(argv)

    import apicourse
    from apicourse.replay import FORCE_REPLAY_VAR

    if not args.live:
        os.environ[FORCE_REPLAY_VAR] = "1"
    course = apicourse.start("08_research_assistant", quiet=True)
    mode = course.mode(args.provider).value
    print(f"({args.provider}: {mode}{'' if args.live else '; add --live to call the real API'})")
    try:
        result = research_topic(args.topic, provider=args.provider)
    except ExtractionFailed as failure:
        print(f"No valid notes: {failure}")
        return 1
    finally:
        course.stop()
    notes = result.notes
    print(f"Title: {notes.title}")
    print(f"Confidence: {notes.confidence}")
    for heading, items in (("Key Points", notes.key_points), ("Applications", notes.applications),
                           ("Challenges", notes.challenges)):  # fmt: skip
        print(f"\n{heading}:")
        for item in items:
            print(f" - {item}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
