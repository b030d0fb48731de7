"""The offline sandbox's answers: for a request no recording and no authored answer covers.

When a learner changes a prompt offline, :mod:`apicourse.sandbox` sends the request to the stand-in with
``sandbox=True``; the stand-in then answers through :func:`sandbox_reply`:

* an authored answer that matches the request is used, **labelled**;
* otherwise an answer is improvised from the request itself: a tool call when tools are offered and the
  request calls for one (arguments built from the tool's JSON schema and the learner's words), a report of
  the tool's result after it, JSON with the asked-for keys when JSON is asked for (a JSON schema, or keys
  named in the prompt), else a short text that says what happened and how to go live.

Every text says it comes from the offline stand-in (:data:`LABEL`); in JSON it is in the first string value.

>>> from apicourse.standin.answers import Query
>>> sandbox_reply(Query("openai", "chat.completions", "gpt-4o", user_text="Name a colour"), {}, None).text[:20]
'[offline stand-in] N'
"""

from __future__ import annotations

import json
import re
from typing import Any

from apicourse.standin.answers import FALLBACK_MARKER, AnswerFile, Query, Reply, ToolCall, resolve

LABEL = "[offline stand-in]"
"""Starts every text the sandbox answers (or its first JSON string value)."""
KEY_VARS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "huggingface": "HF_TOKEN"}
_STOP = {
    "what", "whats", "where", "when", "which", "could", "would", "should", "there", "their", "about", "please",
    "current", "return", "returns", "given", "using", "from", "with", "this", "that", "the", "and", "for", "get",
    "tell", "give", "list", "some", "into", "your", "have", "will", "does", "make",
}  # fmt: skip
_QUERY_NAMES = {"query", "q", "text", "prompt", "question", "topic", "search", "message", "input", "content"}


def sandbox_reply(query: Query, files: dict[str, AnswerFile], notebook: str | None, seed: int = 0) -> Reply:
    """The labelled reply the offline sandbox gives ``query`` (see the module's docstring)."""
    if not (query.wants_json or {}).get("properties"):  # a JSON schema is always answered to the letter
        authored = resolve(query, files, notebook, seed, use_defaults=False)
        if authored.is_error:
            authored.error = f"{authored.error} {LABEL}"
            return authored
        if authored.tool_calls or FALLBACK_MARKER not in authored.text:
            authored.text, authored.preamble = label(authored.text), label(authored.preamble)
            return authored
    if query.tool_result is not None:
        return Reply(text=after_tool(query), source="improvised")
    call = tool_call_for(query)
    if call is not None:
        return Reply(tool_calls=[call], preamble=f"{LABEL} Calling `{call.name}`.", source="improvised")
    if query.wants_json is not None:
        return Reply(text=json_answer(query), source="improvised JSON")
    return Reply(text=plain_answer(query), source="improvised")


def label(text: str) -> str:
    """Mark a text as the offline stand-in's; in JSON, its first string value carries the mark.

    >>> label("Paris.")
    '[offline stand-in] Paris.'
    >>> label('{"title": "T", "n": 1}')
    '{"title": "[offline stand-in] T", "n": 1}'
    >>> label("")
    ''
    """
    if not text or text.startswith(LABEL):
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return f"{LABEL} {text}"
    marked = _label_first_string(data)
    return json.dumps(marked[0], ensure_ascii=False, indent=2 if "\n" in text else None) if marked[1] else text


def _label_first_string(data: Any) -> tuple[Any, bool]:
    if isinstance(data, str):
        return f"{LABEL} {data}", True
    items = list(data.items()) if isinstance(data, dict) else list(enumerate(data)) if isinstance(data, list) else []
    for key, value in items:
        new, done = _label_first_string(value)
        if done:
            data[key] = new
            return data, True
    return data, False


def plain_answer(query: Query) -> str:
    """What the sandbox says when nothing covers a request: what happened, what was asked, how to go live."""
    asked = " ".join(query.user_text.split())
    asked = asked if len(asked) <= 120 else asked[:117] + "..."
    key = KEY_VARS.get(query.provider, "a provider key")
    parts = [
        f"{LABEL} Not a model's answer: no recording matches this request, so the course's offline stand-in replied.",
        f'You asked: "{asked}".' if asked else "",
        "Your system prompt was received." if query.system else "",
        f"(temperature={query.params['temperature']}: a model's wording would change; this text does not.)"
        if "temperature" in query.params
        else "",
        f"For a real answer, put {key} in .env and restart the kernel.",
    ]
    return " ".join(p for p in parts if p)


def after_tool(query: Query) -> str:
    """The answer once a tool's result comes back: the result, reported as it came."""
    result = " ".join((query.tool_result or "").split())
    return (
        f"{LABEL} The tool returned: {result}. A model would now answer your question in its own words "
        "using this result; the offline stand-in only reports it."
    )


# --- tool calls ------------------------------------------------------------------------------------


def _words(text: str) -> set[str]:
    return {w[:5] for w in re.findall(r"[a-z]{4,}", text.lower()) if w not in _STOP}


def tool_call_for(query: Query) -> ToolCall | None:
    """The tool call the request calls for: a forced ``tool_choice``, else the offered tool whose name or
    description shares the most words with the learner's message, else a single offered tool when the
    message names something to look up; none otherwise.

    >>> spec = {"name": "get_weather", "description": "Weather for a city",
    ...         "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
    >>> tool_call_for(Query("openai", "chat.completions", "m", user_text="Weather in Lyon?", tool_specs=(spec,)))
    ToolCall(name='get_weather', arguments={'city': 'Lyon'})
    """
    if not query.tool_specs:
        return None
    choice = query.params.get("tool_choice")
    forced = _forced_tool(choice, query)
    if choice == "none":
        return None
    if forced is None:
        wanted = _words(query.user_text)
        scored = [
            (len(wanted & _words(f"{s['name'].replace('_', ' ')} {s.get('description') or ''}")), i)
            for i, s in enumerate(query.tool_specs)
        ]
        best, index = max(scored)
        required = choice in ("required", "any") or (isinstance(choice, dict) and choice.get("type") == "any")
        # no shared word: a single tool is still called when the message names something (a place, a
        # person, a ticker) for it to look up, as a model would
        lookup = len(query.tool_specs) == 1 and _proper_noun(query.user_text) is not None
        if best == 0 and not (required or lookup):
            return None
        forced = query.tool_specs[index]
    return ToolCall(forced["name"], arguments_for(forced.get("parameters") or {}, query.user_text))


def _forced_tool(choice: Any, query: Query) -> dict[str, Any] | None:
    if not isinstance(choice, dict):
        return None
    name = choice.get("name") or (choice.get("function") or {}).get("name")
    return next((s for s in query.tool_specs if s["name"] == name), None)


def _proper_noun(text: str) -> str | None:
    """The first run of capitalised words that does not start a sentence."""
    tokens = re.findall(r"[A-Za-z][\w'-]*|[.?!]", text)
    run: list[str] = []
    for before, word in zip(["."] + tokens, tokens):
        if word[0].isupper() and before not in (".", "?", "!") and word.lower() not in _STOP and word != "I":
            run.append(word)
        elif run:
            break
    return " ".join(run) or None


def arguments_for(schema: dict[str, Any], user_text: str) -> dict[str, Any]:
    """Arguments that satisfy a JSON schema's required properties, taken from the learner's words where
    they can be (a name, a number, an enum value mentioned).

    >>> arguments_for({"properties": {"n": {"type": "integer"}, "unit": {"enum": ["c", "f"]}}}, "Give me 3")
    {'n': 3, 'unit': 'c'}
    """
    properties: dict[str, Any] = schema.get("properties") or {}
    names = schema.get("required") or list(properties)
    return {name: value_for(name, properties.get(name) or {}, user_text) for name in names}


def value_for(name: str, schema: dict[str, Any], user_text: str) -> Any:
    """One property's value (see :func:`arguments_for`)."""
    if schema.get("enum"):
        mentioned = [v for v in schema["enum"] if str(v).lower() in user_text.lower()]
        return (mentioned or schema["enum"])[0]
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind
    if kind in ("integer", "number"):
        number = re.search(r"-?\d+(?:\.\d+)?", user_text)
        value = float(number.group()) if number else 1
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return True
    if kind == "array":
        return [value_for(name, schema.get("items") or {}, user_text)] * max(1, int(schema.get("minItems") or 1))
    if kind == "object":
        return arguments_for(schema, user_text)
    if name.lower() in _QUERY_NAMES:
        return user_text.strip()[:200]
    return _proper_noun(user_text) or user_text.strip()[:80] or LABEL


# --- JSON ------------------------------------------------------------------------------------------


def json_answer(query: Query) -> str:
    """JSON with the keys asked for: from a JSON schema when one is given, else the keys named in the prompt.

    >>> q = Query("openai", "chat.completions", "m", user_text='Return JSON with the keys "title" and "year".',
    ...           wants_json={})
    >>> json.loads(json_answer(q))
    {'title': '[offline stand-in] title', 'year': 'year'}
    """
    schema = query.wants_json or {}
    if schema.get("properties"):
        data = _from_schema(schema, query.user_text)
    else:
        data = {key: value for key, value in prompt_keys(query.user_text + "\n" + query.system)}
    if not data:
        data = {"answer": ""}
    data, _ = _label_first_string(data)
    if not any(isinstance(v, str) and v.startswith(LABEL) for v in data.values()):
        data = {**data, "note": LABEL} if not schema.get("properties") else data
    return json.dumps(data, ensure_ascii=False, indent=2)


def _from_schema(schema: dict[str, Any], user_text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, prop in (schema.get("properties") or {}).items():
        if prop.get("type") == "string" and not prop.get("enum"):
            out[name] = f"{name.replace('_', ' ')}"
        else:
            out[name] = value_for(name, prop, user_text)
    return out


_KEY_LINE = re.compile(r'["`](\w+)["`]\s*[:\-—]\s*([^\n]*)')


def prompt_keys(prompt: str) -> list[tuple[str, Any]]:
    """Keys named in a prompt (``"title": a concise title``, ``"tags": array of…``, ``"level": "a", "b"…``)
    with a value of the described kind.

    >>> prompt_keys('- "title": a title\\n- "points": array of 3-5 findings\\n- "level": "high", "medium", or "low"')
    [('title', 'title'), ('points', ['points 1', 'points 2', 'points 3']), ('level', 'high')]
    """
    found: list[tuple[str, Any]] = []
    for key, description in _KEY_LINE.findall(prompt):
        if any(k == key for k, _ in found):
            continue
        choices = re.findall(r'"([^"]+)"', description)
        lowered = description.lower()
        if "array" in lowered or "list" in lowered:
            count = re.search(r"(\d+)\s*(?:-|to|–)\s*\d+", lowered)
            size = int(count.group(1)) if count else 3
            value: Any = [f"{key.replace('_', ' ')} {i + 1}" for i in range(max(size, 1))]
        elif choices:
            value = choices[0]
        elif re.search(r"\b(number|integer|count)\b", lowered):
            value = 1
        else:
            value = key.replace("_", " ")
        found.append((key, value))
    for sentence in re.split(r"[.\n]", prompt):  # 'with the keys "name" and "year"'
        if re.search(r"\b(keys?|fields?|properties)\b", sentence, re.IGNORECASE):
            for key in re.findall(r'["`](\w+)["`]', sentence):
                if all(k != key for k, _ in found):
                    found.append((key, key.replace("_", " ")))
    return found


_ASKS_JSON = re.compile(
    r"\b(?:return|respond|reply|answer|output|format(?:ted)?|as|in|only|valid)\b[^.\n]{0,30}\bjson\b"
    r"|\bjson (?:object|with)\b",
    re.IGNORECASE,
)


def json_wanted(response_format: Any, *texts: str) -> dict[str, Any] | None:
    """What JSON a request asks for: the schema of a ``json_schema`` format, ``{}`` for a ``json_object``
    format or a prompt that asks for JSON, ``None`` for plain text.

    >>> json_wanted({"type": "json_schema", "json_schema": {"schema": {"properties": {"a": {}}}}})
    {'properties': {'a': {}}}
    >>> json_wanted(None, "Return only valid JSON, no other text."), json_wanted(None, "What is JSON?")
    ({}, None)
    """
    if isinstance(response_format, dict):
        kind = response_format.get("type")
        if kind == "json_schema":
            inner = response_format.get("json_schema") or response_format
            return dict(inner.get("schema") or {})
        if kind == "json_object":
            return {}
    if any(_ASKS_JSON.search(t or "") for t in texts):
        return {}
    return None
