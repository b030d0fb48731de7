"""OpenAI's wire format: models, chat completions (tools, streaming), the Responses API, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from apicourse.standin import catalog, rules
from apicourse.standin.answers import Query, Reply, resolve
from apicourse.standin.common import (
    STANDIN_HEADER,
    bearer_key,
    count_tokens,
    digest,
    json_pieces,
    json_response,
    masked,
    rejected_key,
    sse_data,
    sse_event,
    stable_id,
    stable_time,
    text_pieces,
    truncate_to_tokens,
)

router = APIRouter(prefix="/api.openai.com/v1")
_HEX = "0123456789abcdef"

ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    402: ("insufficient_quota", "insufficient_quota"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    410: ("invalid_request_error", "model_deprecated"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    503: ("server_error", None),
}


def headers(seed: bytes, tokens: int = 0) -> dict[str, str]:
    """The headers OpenAI sends with every answer (request id, timing, rate limits)."""
    return {
        "x-request-id": stable_id("req_", seed, 32, _HEX),
        "openai-processing-ms": str(180 + 12 * tokens + seed[0]),
        "openai-version": "2020-10-01",
        "x-ratelimit-limit-requests": "10000",
        "x-ratelimit-remaining-requests": "9999",
        "x-ratelimit-reset-requests": "6ms",
        "x-ratelimit-limit-tokens": "30000000",
        "x-ratelimit-remaining-tokens": str(30_000_000 - tokens),
        "x-ratelimit-reset-tokens": "0s",
    }


def error(
    status: int, message: str, seed: bytes, *, code: str | None = None, param: str | None = None
) -> Response:
    """OpenAI's error JSON: ``{"error": {"message", "type", "param", "code"}}``."""
    kind, default_code = ERROR_TYPES.get(status, ("api_error", None))
    body = {"error": {"message": message, "type": kind, "param": param, "code": code or default_code}}
    return json_response(body, status, headers(seed))


def _auth_error(request: Request, seed: bytes) -> Response | None:
    key = bearer_key(request.headers.get("authorization"))
    if rejected_key(key):
        return error(
            401,
            f"Incorrect API key provided: {masked(key)}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            seed,
        )
    return None


def _rules_error(api: str, body: dict[str, Any], seed: bytes) -> Response | None:
    """The provider's refusal of this request, if :mod:`apicourse.standin.rules` has one."""
    refused = rules.refusal(api, body)
    if refused is None:
        return None
    return error(refused.status, refused.message, seed, code=refused.code, param=refused.param)


def _model_error(model: str, seed: bytes) -> Response | None:
    if not model:
        return error(400, "you must provide a model parameter", seed, param="model")
    if catalog.is_retired(model):
        return error(
            404, f"The model `{model}` does not exist or you do not have access to it.", seed, param="model"
        )
    return None


def _text(content: Any) -> str:
    """The text of a message's content (a string, or a list of text parts)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", "")) for part in content if isinstance(part, dict) and "text" in part
        )
    return str(content)


def chat_query(body: dict[str, Any], provider: str = "openai", api: str = "chat.completions") -> Query:
    """What the stand-in needs from a chat-completions request body."""
    messages = body.get("messages") or []
    user_text = next((_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
    system = "\n".join(_text(m.get("content")) for m in messages if m.get("role") in ("system", "developer"))
    trailing_tools = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        trailing_tools.insert(0, _text(message.get("content")))
    tools = tuple(
        (t.get("function") or {}).get("name", "") for t in body.get("tools") or [] if isinstance(t, dict)
    )
    return Query(
        provider=provider,
        api=api,
        model=str(body.get("model", "")),
        user_text=user_text,
        system=system,
        tool_result="\n".join(trailing_tools) if trailing_tools else None,
        tool_names=tools,
        params={k: v for k, v in body.items() if k not in ("messages", "tools")},
    )


def prompt_tokens(body: dict[str, Any]) -> int:
    """Plausible prompt tokens: content plus a few per message, plus the tool definitions."""
    messages = body.get("messages") or []
    total = 3 + sum(4 + count_tokens(_text(m.get("content"))) for m in messages)
    total += sum(count_tokens(json.dumps(m.get("tool_calls"))) for m in messages if m.get("tool_calls"))
    if body.get("tools"):
        total += count_tokens(json.dumps(body["tools"]))
    return total


def _tool_call_json(reply: Reply, seed: bytes) -> list[dict[str, Any]]:
    return [
        {
            "id": stable_id("call_", seed + bytes([i]), 24),
            "type": "function",
            "function": {"name": c.name, "arguments": json.dumps(c.arguments, ensure_ascii=False)},
        }
        for i, c in enumerate(reply.tool_calls)
    ]


def _usage(prompt: int, completion: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat_choices(replies: list[Reply], limit: int | None, seed: bytes) -> tuple[list[dict[str, Any]], int]:
    """The ``choices`` of a chat completion and the completion tokens they used."""
    choices, used = [], 0
    for index, reply in enumerate(replies):
        if reply.tool_calls:
            calls = _tool_call_json(reply, seed + bytes([index]))
            message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": calls}
            finish, used_here = "tool_calls", count_tokens(json.dumps(calls))
        else:
            text, cut = truncate_to_tokens(reply.text, limit)
            message = {"role": "assistant", "content": text}
            finish, used_here = ("length" if cut else "stop"), count_tokens(text)
        message.update({"refusal": None, "annotations": []})
        choices.append({"index": index, "message": message, "logprobs": None, "finish_reason": finish})
        used += used_here
    return choices, used


def chat_completion(
    body: dict[str, Any], replies: list[Reply], seed: bytes, model: str
) -> tuple[dict[str, Any], int]:
    """A ``chat.completion`` object (and its total tokens)."""
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    choices, completion = chat_choices(replies, limit, seed)
    prompt = prompt_tokens(body)
    return {
        "id": stable_id("chatcmpl-", seed, 29),
        "object": "chat.completion",
        "created": stable_time(seed),
        "model": model,
        "choices": choices,
        "usage": _usage(prompt, completion),
        "service_tier": "default",
        "system_fingerprint": stable_id("fp_", model.encode(), 10, _HEX),
    }, prompt + completion


def chat_chunks(body: dict[str, Any], replies: list[Reply], seed: bytes, model: str) -> Iterator[str]:
    """The SSE stream of a chat completion: role, deltas, finish, optional usage, ``[DONE]``."""
    completion, _ = chat_completion(body, replies, seed, model)
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    base = {
        "id": completion["id"],
        "object": "chat.completion.chunk",
        "created": completion["created"],
        "model": model,
        "service_tier": "default",
        "system_fingerprint": completion["system_fingerprint"],
    }

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> str:
        data = {
            **base,
            "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if include_usage:
            data["usage"] = None
        return sse_data(data)

    for choice in completion["choices"]:
        index, message = choice["index"], choice["message"]
        yield chunk(index, {"role": "assistant", "content": "" if not message.get("tool_calls") else None,
                            "refusal": None})  # fmt: skip
        for i, call in enumerate(message.get("tool_calls") or []):
            first = {"index": i, "id": call["id"], "type": "function",
                     "function": {"name": call["function"]["name"], "arguments": ""}}  # fmt: skip
            yield chunk(index, {"tool_calls": [first]})
            for piece in json_pieces(call["function"]["arguments"]):
                yield chunk(index, {"tool_calls": [{"index": i, "function": {"arguments": piece}}]})
        for piece in text_pieces(message.get("content") or "") if not message.get("tool_calls") else []:
            yield chunk(index, {"content": piece})
        yield chunk(index, {}, choice["finish_reason"])
    if include_usage:
        yield sse_data({**base, "choices": [], "usage": completion["usage"]})
    yield "data: [DONE]\n\n"


def _replies(request: Request, query: Query, body: dict[str, Any], seed: bytes) -> list[Reply]:
    n = int(body.get("n") or 1)
    state = request.app.state
    return [resolve(query, state.answers(), state.notebook, seed[0] + i) for i in range(n)]


def _reply_error(reply: Reply, seed: bytes) -> Response:
    assert reply.status is not None
    return error(reply.status, reply.error, seed)


@router.get("/models")
async def list_models(request: Request) -> Response:
    seed = digest("models")
    return _auth_error(request, seed) or json_response(
        {"object": "list", "data": [catalog.openai_model(m) for m in catalog.openai_models()]},
        200,
        headers(seed),
    )


@router.get("/models/{model_id:path}")
async def retrieve_model(request: Request, model_id: str) -> Response:
    seed = digest("models", model_id)
    failed = _auth_error(request, seed)
    if failed:
        return failed
    if model_id not in catalog.openai_models():
        return error(
            404, f"The model '{model_id}' does not exist", seed, code="model_not_found", param="model"
        )
    return json_response(catalog.openai_model(model_id), 200, headers(seed))


@router.post("/chat/completions")
async def chat_completions(request: Request) -> Response:
    raw = await request.body()
    seed = digest(request.url.path, raw)
    failed = _auth_error(request, seed)
    if failed:
        return failed
    body = json.loads(raw or b"{}")
    failed = _rules_error("chat.completions", body, seed) or _model_error(str(body.get("model", "")), seed)
    if failed:
        return failed
    if not body.get("messages"):
        return error(400, "[] is too short - 'messages'", seed, param="messages")
    replies = _replies(request, chat_query(body), body, seed)
    if replies[0].is_error:
        return _reply_error(replies[0], seed)
    model = catalog.openai_snapshot(str(body["model"]))
    if body.get("stream"):
        return StreamingResponse(
            chat_chunks(body, replies, seed, model),
            media_type="text/event-stream",
            headers={STANDIN_HEADER: "1", **headers(seed)},
        )
    completion, tokens = chat_completion(body, replies, seed, model)
    return json_response(completion, 200, headers(seed, tokens))


# --- the Responses API -------------------------------------------------------------------------


def responses_query(body: dict[str, Any]) -> Query:
    """What the stand-in needs from a Responses API request body."""
    items = body.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    items = items or []
    user_text = next(
        (
            _input_text(i.get("content"))
            for i in reversed(items)
            if isinstance(i, dict) and i.get("role") == "user"
        ),
        "",
    )
    outputs = []
    for item in reversed(items):
        if not (isinstance(item, dict) and item.get("type") == "function_call_output"):
            break
        outputs.insert(0, str(item.get("output", "")))
    system = str(body.get("instructions") or "") + "\n".join(
        _input_text(i.get("content"))
        for i in items
        if isinstance(i, dict) and i.get("role") in ("system", "developer")
    )
    tools = tuple(str(t.get("name", "")) for t in body.get("tools") or [] if isinstance(t, dict))
    return Query(
        provider="openai",
        api="responses",
        model=str(body.get("model", "")),
        user_text=user_text,
        system=system,
        tool_result="\n".join(outputs) if outputs else None,
        tool_names=tools,
        params={k: v for k, v in body.items() if k not in ("input", "tools")},
    )


def _input_text(content: Any) -> str:
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return _text(content)


def _echo_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    echoed = []
    for tool in tools:
        tool = dict(tool)
        if tool.get("type") == "function":
            tool.setdefault("description", None)
            tool.setdefault("strict", True)
            tool.setdefault("parameters", {})
        echoed.append(tool)
    return echoed


def response_object(body: dict[str, Any], reply: Reply, seed: bytes, model: str) -> dict[str, Any]:
    """A Responses API ``response`` object, status ``completed`` (or ``incomplete`` when cut)."""
    limit = body.get("max_output_tokens")
    output: list[dict[str, Any]] = []
    cut = False
    if reply.tool_calls:
        for i, call in enumerate(reply.tool_calls):
            output.append({
                "id": stable_id("fc_", seed + bytes([i]), 48, _HEX),
                "type": "function_call",
                "status": "completed",
                "arguments": json.dumps(call.arguments, ensure_ascii=False),
                "call_id": stable_id("call_", seed + bytes([i]), 24),
                "name": call.name,
            })  # fmt: skip
        out_tokens = count_tokens(json.dumps([o["arguments"] for o in output]))
    else:
        text, cut = truncate_to_tokens(reply.text, limit)
        output.append({
            "id": stable_id("msg_", seed, 48, _HEX),
            "type": "message",
            "status": "incomplete" if cut else "completed",
            "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": text}],
            "role": "assistant",
        })  # fmt: skip
        out_tokens = count_tokens(text)
    items = body.get("input")
    in_tokens = (
        3
        + count_tokens(str(body.get("instructions") or ""))
        + count_tokens(items if isinstance(items, str) else json.dumps(items))
    )
    created = stable_time(seed)
    return {
        "id": stable_id("resp_", seed, 48, _HEX),
        "object": "response",
        "created_at": created,
        "status": "incomplete" if cut else "completed",
        "background": False,
        "completed_at": created + 2,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if cut else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": limit,
        "max_tool_calls": None,
        "model": model,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": _echo_tools(body.get("tools") or []),
        "top_logprobs": 0,
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": {
            "input_tokens": in_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": out_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": in_tokens + out_tokens,
        },
        "user": None,
        "metadata": body.get("metadata") or {},
    }


def response_events(final: dict[str, Any]) -> Iterator[str]:
    """The Responses API's SSE sequence: created, in_progress, items and deltas, completed."""
    seq = iter(range(10_000))
    started = {**final, "status": "in_progress", "output": [], "usage": None, "completed_at": None,
               "incomplete_details": None}  # fmt: skip

    def event(kind: str, **data: Any) -> str:
        return sse_event(kind, {"type": kind, "sequence_number": next(seq), **data})

    yield event("response.created", response=started)
    yield event("response.in_progress", response=started)
    for index, item in enumerate(final["output"]):
        if item["type"] == "function_call":
            yield event("response.output_item.added", output_index=index,
                        item={**item, "arguments": "", "status": "in_progress"})  # fmt: skip
            for piece in json_pieces(item["arguments"]):
                yield event("response.function_call_arguments.delta", item_id=item["id"], output_index=index,
                            delta=piece)  # fmt: skip
            yield event("response.function_call_arguments.done", item_id=item["id"], output_index=index,
                        name=item["name"], arguments=item["arguments"])  # fmt: skip
        else:
            part = item["content"][0]
            yield event("response.output_item.added", output_index=index,
                        item={**item, "status": "in_progress", "content": []})  # fmt: skip
            yield event("response.content_part.added", item_id=item["id"], output_index=index, content_index=0,
                        part={**part, "text": ""})  # fmt: skip
            for piece in text_pieces(part["text"]):
                yield event("response.output_text.delta", item_id=item["id"], output_index=index,
                            content_index=0, delta=piece, logprobs=[])  # fmt: skip
            yield event("response.output_text.done", item_id=item["id"], output_index=index, content_index=0,
                        text=part["text"], logprobs=[])  # fmt: skip
            yield event("response.content_part.done", item_id=item["id"], output_index=index, content_index=0,
                        part=part)  # fmt: skip
        yield event("response.output_item.done", output_index=index, item=item)
    kind = "response.completed" if final["status"] == "completed" else "response.incomplete"
    yield event(kind, response=final)


@router.post("/responses")
async def responses(request: Request) -> Response:
    raw = await request.body()
    seed = digest(request.url.path, raw)
    failed = _auth_error(request, seed)
    if failed:
        return failed
    body = json.loads(raw or b"{}")
    failed = _rules_error("responses", body, seed) or _model_error(str(body.get("model", "")), seed)
    if failed:
        return failed
    state = request.app.state
    reply = resolve(responses_query(body), state.answers(), state.notebook, seed[0])
    if reply.is_error:
        return _reply_error(reply, seed)
    final = response_object(body, reply, seed, catalog.openai_snapshot(str(body["model"])))
    if body.get("stream"):
        return StreamingResponse(
            response_events(final),
            media_type="text/event-stream",
            headers={STANDIN_HEADER: "1", **headers(seed)},
        )
    return json_response(final, 200, headers(seed, final["usage"]["total_tokens"]))
