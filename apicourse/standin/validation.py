"""What the real APIs refuse, in one place: every stand-in route asks :func:`refusal` before answering.

A learner who forgets a required parameter, sends a message with a wrong role, answers a tool call that
was never made, or names a model that does not exist gets the status and error text the real API would
send — in record mode and in the offline sandbox alike. ::

    >>> refusal("messages", {"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": "Hi"}]}).message
    'max_tokens: Field required'
    >>> refusal("chat.completions", {"model": "gpt-4o", "messages": [{"role": "bot", "content": "Hi"}]}).param
    'messages[0].role'

Adding a rule
-------------
Model-specific rules (a retired id, ``max_tokens`` vs ``max_completion_tokens``, ``temperature`` on reasoning
models, a missing required parameter) live in :mod:`apicourse.standin.rules` and run first, so a retired
model gets the provider's own message rather than a generic "unknown model". Generic rules (any model) are
the functions below, registered with :func:`rule`; first refusal wins::

    from apicourse.standin.validation import Refusal, rule

    @rule("chat.completions")
    def no_empty_content(body):
        if ...:
            return Refusal(400, "...", param="messages[0].content")
        return None

The ``api`` names are those of :class:`apicourse.standin.answers.Query`: ``chat.completions``,
``responses``, ``messages``, ``hf.chat``.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from functools import cache
from typing import Any

from apicourse import models
from apicourse.standin import catalog, rules
from apicourse.standin.rules import Refusal


Rule = Callable[[dict[str, Any]], Refusal | None]
RULES: dict[str, list[Rule]] = {"chat.completions": [], "responses": [], "messages": [], "hf.chat": []}
"""Every rule, per API, in the order they run."""


def rule(*apis: str) -> Callable[[Rule], Rule]:
    """Register a rule for one or more APIs (a decorator; see the module's docstring)."""

    def register(function: Rule) -> Rule:
        for api in apis:
            RULES.setdefault(api, []).append(function)
        return function

    return register


def refusal(api: str, body: dict[str, Any]) -> Refusal | None:
    """The first refusal any rule gives ``body`` sent to ``api``, or ``None`` when the request is fine.

    >>> refusal("chat.completions", {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}) is None
    True
    """
    found = rules.refusal(api, body)
    if found is not None:
        return found
    for check in RULES.get(api, []):
        found = check(body)
        if found is not None:
            return found
    return None


# --- known models ------------------------------------------------------------------------------


def _literals(annotation: Any) -> list[str]:
    found: list[str] = []
    for arg in typing.get_args(annotation):
        if isinstance(arg, str):
            found.append(arg)
        else:
            found += _literals(arg)
    return found


@cache
def sdk_model_ids(provider: str) -> frozenset[str]:
    """The model ids the pinned SDK knows (openai ``types/shared/chat_model.py``, anthropic ``types/model.py``)."""
    if provider == "openai":
        from openai.types import ChatModel

        return frozenset(_literals(ChatModel))
    from anthropic.types import Model

    return frozenset(_literals(Model))


def known_model(provider: str, model: str) -> bool:
    """Whether the stand-in treats ``model`` as existing: in the pinned SDK's list, the stand-in's catalog,
    or a course default; OpenAI fine-tunes (``ft:…``) too.

    >>> known_model("openai", "gpt-4o"), known_model("anthropic", "claude-sonnet-4-6"), known_model("openai", "gpt-9x")
    (True, True, False)
    """
    if provider == "openai" and (model.startswith("ft:") or model in catalog.OPENAI_MODELS):
        return True
    defaults = {s.default for s in models.SETTINGS}
    return model in sdk_model_ids(provider) or model in defaults


# --- OpenAI: chat completions and the Responses API ---------------------------------------------
# Error texts as the API sends them, seen in public reports: missing parameter and wrong role
# (run-llama/llama_index#17748: "Invalid value: 'developer'. Supported values are: ...", param
# "messages[0].role", code "invalid_value"); a tool message with no tool call before it
# (miurla/morphic#136, param "messages.[3].role", code null); a tool call left unanswered
# (microsoft/promptflow#3130); an unknown model (404, code "model_not_found").

OPENAI_ROLES = ("system", "assistant", "user", "function", "tool", "developer")


@rule("chat.completions", "responses")
def openai_model(body: dict[str, Any]) -> Refusal | None:
    """``model`` is required and must exist."""
    model = str(body.get("model") or "")
    if not model:
        return Refusal(400, "you must provide a model parameter")
    if catalog.is_retired(model) or not known_model("openai", model):
        return Refusal(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            code="model_not_found",
        )
    return None


@rule("chat.completions", "hf.chat")
def chat_messages(body: dict[str, Any]) -> Refusal | None:
    """``messages`` present, each with a known role, tool messages answering a tool call, and every
    tool call answered."""
    messages = body.get("messages")
    if messages is None:
        return Refusal(400, "Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
    if not messages:
        return Refusal(400, "[] is too short - 'messages'", "messages", "empty_array")
    open_calls: list[str] = []
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in OPENAI_ROLES:
            supported = ", ".join(f"'{r}'" for r in OPENAI_ROLES[:-1]) + f", and '{OPENAI_ROLES[-1]}'"
            return Refusal(
                400, f"Invalid value: '{role}'. Supported values are: {supported}.", f"messages[{i}].role",
                "invalid_value",
            )  # fmt: skip
        if role == "tool":
            if message.get("tool_call_id") not in open_calls:
                return Refusal(
                    400,
                    "Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                    "with 'tool_calls'.",
                    f"messages.[{i}].role",
                )
            open_calls.remove(message["tool_call_id"])
            continue
        if open_calls:
            return Refusal(
                400,
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(open_calls)}",
                f"messages.[{i}].role",
            )
        if role == "assistant":
            open_calls = [str(c.get("id")) for c in message.get("tool_calls") or [] if isinstance(c, dict)]
        elif role in ("user", "system", "developer") and message.get("content") is None:
            return Refusal(
                400, f"Missing required parameter: 'messages[{i}].content'.", f"messages[{i}].content",
                "missing_required_parameter",
            )  # fmt: skip
    return None



# --- Anthropic: the Messages API ----------------------------------------------------------------
# Error texts as the API sends them, seen in public reports: a system message in `messages`
# (ianarawjo/ChainForge#271); a tool_result with no tool_use before it (anthropics/claude-code#13460);
# a tool_use left without its tool_result (anthropics/claude-code#7929); missing fields are pydantic-style
# "max_tokens: Field required"; an unknown model is a 404 not_found_error "model: <id>".


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


@rule("messages")
def anthropic_fields(body: dict[str, Any]) -> Refusal | None:
    """``model``, ``max_tokens`` and ``messages`` are required; the model must exist."""
    for name in ("model", "max_tokens", "messages"):
        if body.get(name) is None:
            return Refusal(400, f"{name}: Field required")
    model = str(body["model"])
    if catalog.is_retired(model) or not known_model("anthropic", model):
        return Refusal(404, f"model: {model}")
    if not body["messages"]:
        return Refusal(400, "messages: at least one message is required")
    return None


@rule("messages")
def anthropic_turns(body: dict[str, Any]) -> Refusal | None:
    """Roles are ``user`` or ``assistant``; each ``tool_result`` answers a ``tool_use`` of the message just
    before it, and each ``tool_use`` is answered in the next message."""
    messages = body["messages"]
    for i, message in enumerate(messages):
        role = message.get("role")
        if role == "system":
            return Refusal(
                400,
                'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, '
                'not "system" as an input message role.',
            )
        if role not in ("user", "assistant"):
            return Refusal(400, f"messages.{i}.role: Input should be 'user' or 'assistant'")
        previous = _blocks(messages[i - 1]) if i else []
        asked = {b.get("id") for b in previous if b.get("type") == "tool_use"}
        for j, block in enumerate(_blocks(message)):
            if block.get("type") == "tool_result" and block.get("tool_use_id") not in asked:
                return Refusal(
                    400,
                    f"messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: "
                    f"{block.get('tool_use_id')}. Each `tool_result` block must have a corresponding `tool_use` "
                    "block in the previous message.",
                )
        if asked and i:
            answered = {b.get("tool_use_id") for b in _blocks(message) if b.get("type") == "tool_result"}
            missing = [str(a) for a in asked if a not in answered]
            if missing:
                return Refusal(
                    400,
                    f"messages.{i - 1}: `tool_use` ids were found without `tool_result` blocks immediately "
                    f"after: {', '.join(sorted(missing))}. Each `tool_use` block must have a corresponding "
                    "`tool_result` block in the next message.",
                )
    return None
