"""The providers' model rules, enforced by the stand-in so an offline run catches what a live one would.

Each stand-in route asks :func:`refusal` before answering; a refusal carries the status, message and (for
OpenAI) ``param`` and ``code`` the real API sends, as seen in public reports cited beside each rule. ::

    >>> refusal("chat.completions", {"model": "gpt-6.1-terra", "max_tokens": 50,
    ...                              "messages": [{"role": "user", "content": "Hi"}]}).code
    'unsupported_parameter'
    >>> refusal("messages", {"model": "claude-sonnet-4-20250514", "max_tokens": 50,
    ...                      "messages": [{"role": "user", "content": "Hi"}]}, date(2026, 12, 2)).message
    'model: claude-sonnet-4-20250514'
    >>> refusal("chat.completions", {"model": "gpt-6.1-terra", "max_completion_tokens": 50,
    ...                              "messages": [{"role": "user", "content": "Hi"}]}) is None
    True

The rules: a missing required parameter; a retired model id (the course's retirement table and the pinned
SDKs' shutdown notes, :mod:`apicourse.model_check`); ``max_tokens`` on an OpenAI reasoning model; a
non-default ``temperature`` on an OpenAI reasoning model (chat and Responses) or on a Claude model that
no longer takes one. ``api`` is one of ``chat.completions``, ``responses``, ``messages``.

One rule shapes an answer instead of refusing: a Claude model that thinks by default puts a thinking block
before its text (:func:`thinking_block`), so a lesson that reads ``content[0].text`` fails offline too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

__all__ = ["Refusal", "refusal", "is_reasoning_model", "refuses_temperature", "thinks_by_default", "thinking_block"]


@dataclass(frozen=True)
class Refusal:
    """An error the real API would answer with: status, message, and (OpenAI) ``param`` and ``code``."""

    status: int
    message: str
    param: str | None = None
    code: str | None = None


Body = dict[str, Any]

# OpenAI reasoning models: the o-series and the GPT-5 and GPT-6 families. They refuse ``max_tokens`` and
# accept only the default ``temperature`` (1). The ``-chat-latest`` variants are chat (non-reasoning) models;
# all of them are shut down (openai 3.57.0 ChatModel notes), so the retirement rule answers them first.
REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5", "gpt-6")
# Models that accept ``reasoning_effort: "none"``, and only then honour ``temperature``/``top_p``:
# gpt-5.1 (vercel/ai#10940, OpenAI's "GPT-5.1 parameter compatibility"), gpt-5.2/5.4/5.5 and the gpt-5.6
# line (experientiallabs/experiential#738), gpt-6.1-terra (effort none..max, docs.litellm.ai/blog/gpt-6-1-terra).
EFFORT_NONE_PREFIXES = ("gpt-5.1", "gpt-5.2", "gpt-5.4", "gpt-5.5", "gpt-5.6", "gpt-6.1-terra")
# Claude models that answer 400 "`temperature` is deprecated for this model.": claude-opus-4-7
# (UKGovernmentBEIS/inspect_ai#3721, UiPath/uipath-langchain-python#790), claude-opus-4-8 and claude-fable-5
# (The-PR-Agent/pr-agent#2456); Sonnet 5 "does not support non-default sampling parameters"
# (docs.oxen.ai claude-sonnet-5, quoting Anthropic's model page), and Sonnet 5.5 is its successor.
NO_TEMPERATURE_CLAUDE = ("claude-opus-4-7", "claude-opus-4-8", "claude-fable-5", "claude-sonnet-5")
# Claude models that think (adaptive thinking) when the request has no ``thinking``: Sonnet 5 — "responses then
# start with a thinking block", so ``content[0].text`` fails (jagduvi1/Cellarion#581, promptfoo/promptfoo#10631),
# and Sonnet 5.5 "runs adaptive thinking by default" (apidog.com, Sonnet 5.5 API guide); Fable 5 and Mythos 5
# always think; Opus 5 (ChatGPTBox-dev/chatGPTBox#1026). Opus 4.7/4.8 do not think unless asked. The thinking
# text is omitted by default ("Thinking blocks still appear ... their `thinking` field will be empty", Opus 4.7
# notes quoted in anthropics/claude-code#56356; Sonnet 5's display defaults to "omitted",
# cortexkit/anthropic-auth#100); ``thinking: {"type": "disabled"}`` turns it off where allowed.
THINKING_BY_DEFAULT = ("claude-sonnet-5", "claude-fable-5", "claude-mythos-5", "claude-opus-5")


def is_reasoning_model(model: str) -> bool:
    """Whether OpenAI treats ``model`` as a reasoning model (``max_completion_tokens``, default temperature).

    >>> is_reasoning_model("gpt-6-luna"), is_reasoning_model("o4-mini"), is_reasoning_model("gpt-4o")
    (True, True, False)
    """
    return model.startswith(REASONING_PREFIXES) and "chat-latest" not in model


def refuses_temperature(model: str) -> bool:
    """Whether a Claude model answers 400 to a non-default ``temperature``.

    >>> refuses_temperature("claude-opus-4-8"), refuses_temperature("claude-sonnet-4-6")
    (True, False)
    """
    return model.startswith(NO_TEMPERATURE_CLAUDE)


def thinks_by_default(model: str) -> bool:
    """Whether a Claude model answers with a thinking block first when the request does not mention thinking.

    >>> thinks_by_default("claude-sonnet-5-5"), thinks_by_default("claude-opus-4-8")
    (True, False)
    """
    return model.startswith(THINKING_BY_DEFAULT)


def thinking_block(body: Body, signature: str) -> dict[str, Any] | None:
    """The thinking block a Claude model puts first in its answer to ``body`` (``None`` if it would not think):
    empty ``thinking`` unless the request asked for ``display: "summarized"``.

    >>> thinking_block({"model": "claude-sonnet-5-5"}, "sig")
    {'type': 'thinking', 'thinking': '', 'signature': 'sig'}
    >>> thinking_block({"model": "claude-sonnet-5-5", "thinking": {"type": "disabled"}}, "sig") is None
    True
    """
    thinking = body.get("thinking") or {}
    asked = thinking.get("type") in ("adaptive", "enabled")
    if thinking.get("type") == "disabled" or not (asked or thinks_by_default(str(body.get("model", "")))):
        return None
    summarized = thinking.get("display") == "summarized"
    shown = "(stand-in) A summary of the model's thinking would appear here." if summarized else ""
    return {"type": "thinking", "thinking": shown, "signature": signature}


def _non_default_temperature(body: Body) -> bool:
    value = body.get("temperature")
    return value is not None and value != 1


def _number(value: Any) -> str:
    return str(value)  # the API echoes the JSON number as sent: 0, 0.0, 0.7


def _shutdown(model: str, today: date) -> bool:
    from apicourse.model_check import shutdown_of

    found = shutdown_of(model)
    return found is not None and found.on <= today


# --- OpenAI ------------------------------------------------------------------------------------


def _openai_required(body: Body, api: str) -> Refusal | None:
    if not body.get("model"):
        return Refusal(400, "you must provide a model parameter", "model")
    if api == "chat.completions" and body.get("messages") is None:
        # SilasMarvin/lsp-ai#108: {"code":"missing_required_parameter","message":"Missing required
        # parameter: 'messages'.","param":"messages","type":"invalid_request_error"}
        return Refusal(400, "Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
    return None


def _openai_retired(model: str, today: date) -> Refusal | None:
    # A shut-down model: 404 invalid_request_error, param null, code model_not_found, with this text
    # (openai/openai-quickstart-node#127, langflow-ai/langflow#1337, seratch/ChatGPT-in-Slack#103).
    if _shutdown(model, today):
        return Refusal(
            404,
            f"The model `{model}` has been deprecated, learn more here: https://platform.openai.com/docs/deprecations",
            None,
            "model_not_found",
        )
    return None


def _effort_none(body: Body, api: str, model: str) -> bool:
    effort = body.get("reasoning_effort") if api == "chat.completions" else (body.get("reasoning") or {}).get("effort")
    return effort == "none" and model.startswith(EFFORT_NONE_PREFIXES)


def _openai_reasoning(body: Body, api: str, model: str) -> Refusal | None:
    if not is_reasoning_model(model):
        return None
    if api == "chat.completions" and body.get("max_tokens") is not None:
        # 400 {"message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use
        # 'max_completion_tokens' instead.", "type": "invalid_request_error", "param": "max_tokens",
        # "code": "unsupported_parameter"} (griptape-ai/ComfyUI-Griptape#312 gpt-5, fish2018/YPrompt#26 gpt-5.1,
        # koosoli/ESPHomeDesigner#379 gpt-5.4); the pinned openai SDK documents max_tokens as deprecated and
        # "not compatible with o-series models" (types/chat/completion_create_params.py).
        return Refusal(
            400,
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "max_tokens",
            "unsupported_parameter",
        )
    if _non_default_temperature(body) and not _effort_none(body, api, model):
        if api == "responses":
            # Responses API: 400 "Unsupported parameter: 'temperature' is not supported with this model."
            # (OpenHands/software-agent-sdk#992, gpt-5 on Responses; body as in ai-christianson/RA.Aid#70)
            return Refusal(
                400, "Unsupported parameter: 'temperature' is not supported with this model.", "temperature",
                "unsupported_parameter",
            )  # fmt: skip
        # Chat Completions: 400 ... "param": "temperature", "code": "unsupported_value"
        # (gabrii/Cursor-Azure-GPT-5#33, johny-b/llmcomp#69 gpt-5.4, QwenLM/qwen-code#921 gpt-5-mini)
        return Refusal(
            400,
            f"Unsupported value: 'temperature' does not support {_number(body['temperature'])} with this model. "
            "Only the default (1) value is supported.",
            "temperature",
            "unsupported_value",
        )
    return None


def _openai(api: str) -> Callable[[Body, date], Refusal | None]:
    def check(body: Body, today: date) -> Refusal | None:
        model = str(body.get("model") or "")
        return (
            _openai_required(body, api)
            or _openai_retired(model, today)
            or _openai_reasoning(body, api, model)
        )

    return check


# --- Anthropic ---------------------------------------------------------------------------------


def _anthropic(body: Body, today: date) -> Refusal | None:
    # Missing fields are pydantic-style "<field>: Field required" (immersive-translate/immersive-translate#3993:
    # "400: max_tokens: Field required"); an empty list: "messages: at least one message is required"
    # (devoxx/DevoxxGenieIDEAPlugin#567). All 400 invalid_request_error.
    for name in ("model", "max_tokens", "messages"):
        if body.get(name) is None:
            return Refusal(400, f"{name}: Field required")
    model = str(body["model"])
    if _shutdown(model, today):
        # 404 {"type":"error","error":{"type":"not_found_error","message":"model: claude-sonnet-4-20250514"}}
        # (vicharanashala/vibe#1259, after the 2026-06-15 retirement)
        return Refusal(404, f"model: {model}")
    if not body["messages"]:
        return Refusal(400, "messages: at least one message is required")
    if refuses_temperature(model) and _non_default_temperature(body):
        # 400 invalid_request_error "`temperature` is deprecated for this model." (see NO_TEMPERATURE_CLAUDE)
        return Refusal(400, "`temperature` is deprecated for this model.")
    return None


RULES: dict[str, Callable[[Body, date], Refusal | None]] = {
    "chat.completions": _openai("chat.completions"),
    "responses": _openai("responses"),
    "messages": _anthropic,
}


def refusal(api: str, body: Body, today: date | None = None) -> Refusal | None:
    """What the real API would refuse ``body`` with on ``today`` (default: today), or ``None`` if it is fine."""
    check = RULES.get(api)
    return check(body, today or date.today()) if check else None
