"""The stand-in's authored answers: YAML files in ``apicourse/standin/answers/``, matched per request.

The format is documented in :mod:`apicourse.standin`; this module loads the files and picks the
entry that answers a request (see :func:`resolve`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ANSWERS_DIR: Path = Path(__file__).resolve().parent / "answers"
DEFAULTS_FILE = "_defaults"
FALLBACK_TEXT = (
    "(stand-in) No authored answer matches this prompt yet: add an entry to "
    "apicourse/standin/answers/{notebook}.yaml and record again."
)
"""What the stand-in says when nothing matches; the record command warns when a cassette holds it."""
FALLBACK_MARKER = "(stand-in) No authored answer matches"
DEFAULT_AFTER_TOOL = "Here is what the tool returned: {tool_result}"


@dataclass
class Query:
    """What the stand-in knows about one request, whatever the provider."""

    provider: str  # openai | anthropic | huggingface
    api: str  # chat.completions | responses | messages | hf.chat | hf.text-classification | hf.text-to-image ...
    model: str
    user_text: str = ""  # the latest user-authored text (tool results excluded)
    system: str = ""
    tool_result: str | None = None  # set when the last turn carries a tool result
    tool_names: tuple[str, ...] = ()  # the tools the request offers
    params: dict[str, Any] = field(default_factory=dict)  # the request's top-level fields
    tool_specs: tuple[dict[str, Any], ...] = ()  # each offered tool: name, description, parameters (JSON schema)
    wants_json: dict[str, Any] | None = None  # None: text; {}: JSON asked for; else the JSON schema asked for


@dataclass
class ToolCall:
    name: str
    arguments: dict[str, Any]


@dataclass
class Reply:
    """What to answer: text, tool calls, labels, an image, or an error."""

    text: str = ""
    preamble: str = ""  # text said before tool calls (Anthropic often does)
    tool_calls: list[ToolCall] = field(default_factory=list)
    labels: list[dict[str, Any]] | None = None
    image: dict[str, Any] = field(default_factory=dict)
    status: int | None = None
    error: str = ""
    source: str = ""  # which file and entry answered (for debugging)

    @property
    def is_error(self) -> bool:
        return self.status is not None and self.status >= 400


@dataclass
class Entry:
    """One authored answer."""

    source: str
    match: tuple[str, ...] = ()
    system: str | None = None
    provider: str | None = None
    api: str | None = None
    model: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    text: str | list[str] | None = None
    preamble: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    labels: list[dict[str, Any]] | None = None
    image: dict[str, Any] = field(default_factory=dict)
    status: int | None = None
    error: str = ""

    def matches(self, query: Query) -> bool:
        haystack = query.user_text.lower()
        if any(part.lower() not in haystack for part in self.match):
            return False
        if self.system is not None and self.system.lower() not in query.system.lower():
            return False
        if self.provider is not None and self.provider != query.provider:
            return False
        if self.api is not None and self.api != query.api:
            return False
        if self.model is not None and self.model.lower() not in query.model.lower():
            return False
        return all(_same(query.params.get(k), v) for k, v in self.params.items())


def _same(actual: Any, wanted: Any) -> bool:
    if isinstance(wanted, (int, float)) and isinstance(actual, (int, float)) and not isinstance(wanted, bool):
        return float(actual) == float(wanted)
    return actual == wanted


def _entry(raw: dict[str, Any], source: str) -> Entry:
    match = raw.get("match", ())
    calls = raw.get("tool_calls") or ([raw["tool_call"]] if raw.get("tool_call") else [])
    unknown = set(raw) - {
        "match", "system", "provider", "api", "model", "params", "text", "preamble", "tool_call",
        "tool_calls", "labels", "image", "status", "error", "note",
    }  # fmt: skip
    if unknown:
        raise ValueError(f"{source}: unknown field(s) {sorted(unknown)}")
    return Entry(
        source=source,
        match=(match,) if isinstance(match, str) else tuple(match),
        system=raw.get("system"),
        provider=raw.get("provider"),
        api=raw.get("api"),
        model=raw.get("model"),
        params=dict(raw.get("params") or {}),
        text=raw.get("text"),
        preamble=raw.get("preamble", ""),
        tool_calls=[ToolCall(c["name"], dict(c.get("arguments") or {})) for c in calls],
        labels=raw.get("labels"),
        image=dict(raw.get("image") or {}),
        status=raw.get("status"),
        error=raw.get("error", ""),
    )


@dataclass
class AnswerFile:
    name: str
    entries: list[Entry]
    default: Entry | None


def load_file(path: Path) -> AnswerFile:
    """Read one answer file (raises ``ValueError`` or ``TypeError`` naming the file when it is malformed)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise TypeError(f"{path.name}: expected a mapping with 'answers:' (and optionally 'default:')")
    entries = [_entry(raw, f"{path.name}#{i}") for i, raw in enumerate(data.get("answers") or [])]
    default = _entry(data["default"], f"{path.name}#default") if data.get("default") else None
    return AnswerFile(path.stem, entries, default)


def load_all(directory: Path = ANSWERS_DIR) -> dict[str, AnswerFile]:
    """Every answer file by notebook name (``05_openai``), plus ``_defaults``."""
    return {p.stem: load_file(p) for p in sorted(directory.glob("*.yaml"))}


def _ordered(files: dict[str, AnswerFile], notebook: str | None) -> list[AnswerFile]:
    if notebook:
        chosen = [files[n] for n in (notebook, DEFAULTS_FILE) if n in files]
    else:
        chosen = [f for n, f in files.items() if n != DEFAULTS_FILE] + (
            [files[DEFAULTS_FILE]] if DEFAULTS_FILE in files else []
        )
    return chosen


def resolve(
    query: Query, files: dict[str, AnswerFile], notebook: str | None = None, seed: int = 0, use_defaults: bool = True
) -> Reply:
    """Pick the reply for ``query``: the first matching entry of the notebook's file, then of
    ``_defaults.yaml``; else the notebook's ``default:`` (unless ``use_defaults`` is false); else a
    fallback that says what to add.

    >>> q = Query("openai", "chat.completions", "gpt-4o", user_text="Say hi")
    >>> f = {"nb": AnswerFile("nb", [Entry("nb#0", match=("hi",), text="Hello!")], None)}
    >>> resolve(q, f, "nb").text
    'Hello!'
    """
    ordered = _ordered(files, notebook)
    chosen = next((e for f in ordered for e in f.entries if e.matches(query)), None)
    if chosen is None and use_defaults:
        chosen = next(
            (f.default for f in ordered if f.default is not None and f.default.matches(query)), None
        )
    if chosen is None:
        chosen = Entry("fallback", text=FALLBACK_TEXT.format(notebook=notebook or "NN_notebook"))
    return _reply(chosen, query, seed)


def reply_for(state: Any, query: Query, seed: int = 0) -> Reply:
    """The reply a stand-in app (its ``app.state``) gives ``query``: authored, or the offline sandbox's
    labelled answer when the app serves the sandbox (see :mod:`apicourse.standin.improvise`)."""
    if getattr(state, "sandbox", False):
        from apicourse.standin.improvise import sandbox_reply

        return sandbox_reply(query, state.answers(), state.notebook, seed)
    return resolve(query, state.answers(), state.notebook, seed)


class _Lenient(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(text: str, query: Query) -> str:
    """Fill ``{tool_result}``, ``{result[field]}``, ``{model}``, ``{user}`` in an answer text.

    >>> fill("It is {result[temp_c]} °C", Query("openai", "x", "m", tool_result='{"temp_c": 18}'))
    'It is 18 °C'
    """
    result: Any = query.tool_result
    try:
        result = json.loads(query.tool_result or "")
    except ValueError:
        pass
    values = _Lenient(
        tool_result=query.tool_result or "", result=result, model=query.model, user=query.user_text
    )
    try:
        return text.format_map(values)
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        return text


def _pick_text(text: str | list[str] | None, seed: int) -> str | None:
    if isinstance(text, list):
        return text[seed % len(text)] if text else ""
    return text


def _reply(entry: Entry, query: Query, seed: int) -> Reply:
    reply = Reply(source=entry.source, labels=entry.labels, image=entry.image)
    if entry.status is not None and entry.status >= 400:
        reply.status, reply.error = entry.status, entry.error or "The stand-in was told to fail here."
        return reply
    text = _pick_text(entry.text, seed)
    if query.tool_result is not None:
        reply.text = fill(text if text is not None else DEFAULT_AFTER_TOOL, query)
    elif entry.tool_calls and all(c.name in query.tool_names for c in entry.tool_calls):
        reply.tool_calls = entry.tool_calls
        reply.preamble = fill(entry.preamble, query)
    else:
        reply.text = fill(text if text is not None else FALLBACK_TEXT.format(notebook="NN_notebook"), query)
    return reply
