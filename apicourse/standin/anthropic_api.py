"""Anthropic's wire format: the Messages API (tool use, SSE streaming) and its error JSON."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from apicourse.standin import rules, validation
from apicourse.standin.answers import Query, Reply, reply_for
from apicourse.standin.improvise import LABEL, json_wanted
from apicourse.standin.common import (
    STANDIN_HEADER,
    bearer_key,
    count_tokens,
    digest,
    json_pieces,
    json_response,
    rejected_key,
    sse_event,
    stable_id,
    stable_time,
    text_pieces,
    truncate_to_tokens,
)

router = APIRouter(prefix="/api.anthropic.com/v1")

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def headers(seed: bytes, input_tokens: int = 0, output_tokens: int = 0) -> dict[str, str]:
    """The headers Anthropic sends: ``request-id`` and the ``anthropic-ratelimit-*`` family."""
    reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stable_time(seed) + 1))
    out: dict[str, str] = {"request-id": request_id(seed)}
    for name, limit, used in (
        ("requests", 4000, 1),
        ("input-tokens", 2_000_000, input_tokens),
        ("output-tokens", 400_000, output_tokens),
        ("tokens", 2_400_000, input_tokens + output_tokens),
    ):
        out[f"anthropic-ratelimit-{name}-limit"] = str(limit)
        out[f"anthropic-ratelimit-{name}-remaining"] = str(limit - used)
        out[f"anthropic-ratelimit-{name}-reset"] = reset
    return out


def request_id(seed: bytes) -> str:
    return stable_id("req_011C", seed, 20)


def error(status: int, message: str, seed: bytes) -> Response:
    """Anthropic's error JSON: ``{"type": "error", "error": {"type", "message"}, "request_id"}``."""
    body = {
        "type": "error",
        "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message},
        "request_id": request_id(seed),
    }
    return json_response(body, status, {"request-id": request_id(seed)})


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(b.get("text", "")) for b in content if isinstance(b, dict) and b.get("type") == "text"
        )
    return ""


def messages_query(body: dict[str, Any]) -> Query:
    """What the stand-in needs from a Messages request body."""
    messages = body.get("messages") or []
    user_text = ""
    for message in reversed(messages):
        if message.get("role") == "user" and _text(message.get("content")).strip():
            user_text = _text(message.get("content"))
            break
    tool_result = None
    if messages and messages[-1].get("role") == "user" and isinstance(messages[-1].get("content"), list):
        results = [
            b for b in messages[-1]["content"] if isinstance(b, dict) and b.get("type") == "tool_result"
        ]
        if results:
            tool_result = "\n".join(
                r["content"] if isinstance(r.get("content"), str) else _text(r.get("content"))
                for r in results
            )
    specs = tuple(
        {"name": str(t.get("name", "")), "description": t.get("description"), "parameters": t.get("input_schema")}
        for t in body.get("tools") or []
        if isinstance(t, dict)
    )
    output_format = (body.get("output_config") or {}).get("format")
    return Query(
        provider="anthropic",
        api="messages",
        model=str(body.get("model", "")),
        user_text=user_text,
        system=_text(body.get("system")),
        tool_result=tool_result,
        tool_names=tuple(s["name"] for s in specs),
        params={k: v for k, v in body.items() if k not in ("messages", "tools", "system")},
        tool_specs=specs,
        wants_json=json_wanted(output_format, user_text, _text(body.get("system"))),
    )


def input_tokens(body: dict[str, Any]) -> int:
    """Plausible input tokens: system, every block of every message, tool definitions."""
    total = 4 + count_tokens(_text(body.get("system")))
    for message in body.get("messages") or []:
        content = message.get("content")
        total += 3 + count_tokens(
            content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        )
    if body.get("tools"):
        total += 300 + count_tokens(json.dumps(body["tools"]))  # tool use adds a system prompt of its own
    return total


def message_object(body: dict[str, Any], reply: Reply, seed: bytes) -> dict[str, Any]:
    """A ``message`` with its content blocks, stop reason and usage."""
    content: list[dict[str, Any]] = []
    if reply.tool_calls:
        if reply.preamble:
            content.append({"type": "text", "text": reply.preamble})
        for i, call in enumerate(reply.tool_calls):
            content.append({"type": "tool_use", "id": stable_id("toolu_01", seed + bytes([i]), 22),
                            "name": call.name, "input": call.arguments})  # fmt: skip
        stop, out = "tool_use", count_tokens(json.dumps([c.arguments for c in reply.tool_calls])) + 20
        out += count_tokens(reply.preamble)
    else:
        text, cut = truncate_to_tokens(reply.text, body.get("max_tokens"))
        content.append({"type": "text", "text": text})
        stop, out = ("max_tokens" if cut else "end_turn"), count_tokens(text)
    thinking = rules.thinking_block(body, stable_id("Eq", seed, 64))  # newer models think first, by default
    content[:0] = [thinking] if thinking else []
    return {
        "id": stable_id("msg_01", seed, 22),
        "type": "message",
        "role": "assistant",
        "model": str(body.get("model")),
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens(body),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "output_tokens": out,
            "service_tier": "standard",
        },
    }


def message_events(final: dict[str, Any]) -> Iterator[str]:
    """The documented SSE sequence: message_start, content_block_start, ping, content_block_delta…,
    content_block_stop, message_delta (stop reason + usage), message_stop."""
    start = {**final, "content": [], "stop_reason": None, "stop_sequence": None,
             "usage": {**final["usage"], "output_tokens": 1}}  # fmt: skip
    yield sse_event("message_start", {"type": "message_start", "message": start})
    for index, block in enumerate(final["content"]):
        if block["type"] == "thinking":  # thinking_delta pieces (none when omitted), then its signature
            yield sse_event("content_block_start", {"type": "content_block_start", "index": index,
                            "content_block": {"type": "thinking", "thinking": "", "signature": ""}})  # fmt: skip
            if index == 0:
                yield sse_event("ping", {"type": "ping"})
            for piece in text_pieces(block["thinking"]):
                yield sse_event("content_block_delta", {"type": "content_block_delta", "index": index,
                                "delta": {"type": "thinking_delta", "thinking": piece}})  # fmt: skip
            yield sse_event("content_block_delta", {"type": "content_block_delta", "index": index,
                            "delta": {"type": "signature_delta", "signature": block["signature"]}})  # fmt: skip
        elif block["type"] == "text":
            yield sse_event("content_block_start", {"type": "content_block_start", "index": index,
                                                     "content_block": {"type": "text", "text": ""}})  # fmt: skip
            if index == 0:
                yield sse_event("ping", {"type": "ping"})
            for piece in text_pieces(block["text"]):
                yield sse_event("content_block_delta", {"type": "content_block_delta", "index": index,
                                                         "delta": {"type": "text_delta", "text": piece}})  # fmt: skip
        else:
            yield sse_event("content_block_start", {"type": "content_block_start", "index": index,
                                                     "content_block": {**block, "input": {}}})  # fmt: skip
            if index == 0:
                yield sse_event("ping", {"type": "ping"})
            for piece in [""] + json_pieces(json.dumps(block["input"], ensure_ascii=False)):
                yield sse_event("content_block_delta", {"type": "content_block_delta", "index": index,
                                "delta": {"type": "input_json_delta", "partial_json": piece}})  # fmt: skip
        yield sse_event("content_block_stop", {"type": "content_block_stop", "index": index})
    yield sse_event("message_delta", {"type": "message_delta",
                    "delta": {"stop_reason": final["stop_reason"], "stop_sequence": None},
                    "usage": {"output_tokens": final["usage"]["output_tokens"]}})  # fmt: skip
    yield sse_event("message_stop", {"type": "message_stop"})


@router.post("/messages")
async def messages(request: Request) -> Response:
    raw = await request.body()
    seed = digest(request.url.path, raw)
    key = request.headers.get("x-api-key") or bearer_key(request.headers.get("authorization"))
    if rejected_key(key):
        return error(401, "invalid x-api-key", seed)
    body = json.loads(raw or b"{}")
    found = validation.refusal("messages", body)
    if found is not None:
        sandbox = getattr(request.app.state, "sandbox", False)
        return error(found.status, f"{found.message} {LABEL}" if sandbox else found.message, seed)
    reply = reply_for(request.app.state, messages_query(body), seed[0])
    if reply.is_error:
        return error(reply.status or 500, reply.error, seed)
    final = message_object(body, reply, seed)
    usage = final["usage"]
    extra = headers(seed, usage["input_tokens"], usage["output_tokens"])
    if body.get("stream"):
        return StreamingResponse(
            message_events(final), media_type="text/event-stream", headers={STANDIN_HEADER: "1", **extra}
        )
    return json_response(final, 200, extra)


@router.post("/messages/count_tokens")
async def count(request: Request) -> Response:
    body = json.loads(await request.body() or b"{}")
    return json_response({"input_tokens": input_tokens(body)}, 200, headers(digest("count", body)))
