"""Check a cassette the way the SDKs will read it: every recorded body through the SDK's own typed models.

problems = check_cassette(Path("cassettes/05_openai/05_openai.yaml"))   # [] when all is well
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from apicourse.record import secret_problems
from apicourse.replay import RECORDED_AGAINST
from apicourse.standin.common import STANDIN_HEADER


def load(path: Path) -> list[dict[str, Any]]:
    """The interactions of a vcrpy cassette (binary bodies come back as bytes)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return list(data.get("interactions") or [])


def recorded_against(path: Path) -> str | None:
    """What the cassette says it was recorded against (vcrpy metadata written by the record command)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return (data.get("metadata") or {}).get(RECORDED_AGAINST)


def body_bytes(response: dict[str, Any]) -> bytes:
    body = (response.get("body") or {}).get("string", b"")
    return body if isinstance(body, bytes) else str(body).encode("utf-8")


def header(response: dict[str, Any], name: str) -> str:
    for key, values in (response.get("headers") or {}).items():
        if key.lower() == name:
            return str(values[0] if isinstance(values, list) else values)
    return ""


def sse_events(body: bytes) -> list[tuple[str | None, str]]:
    """``(event, data)`` pairs of a server-sent-event body."""
    events = []
    for block in body.decode("utf-8").replace("\r\n", "\n").split("\n\n"):
        if not block.strip():
            continue
        event, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        events.append((event, "\n".join(data)))
    return events


def _hf_required(cls: type, data: dict[str, Any]) -> list[str]:
    return [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
        and f.name not in data
    ]


# --- one validator per endpoint: raise on anything the SDK could not read -------------------------


def _openai_models(body: bytes, sse: bool) -> None:
    from openai.types import Model

    data = json.loads(body)
    items = data["data"] if data.get("object") == "list" else [data]
    for item in items:
        Model.model_validate(item)


def _openai_chat(body: bytes, sse: bool) -> None:
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    if not sse:
        ChatCompletion.model_validate(json.loads(body))
        return
    events = sse_events(body)
    assert events and events[-1][1] == "[DONE]", "an OpenAI stream ends with data: [DONE]"
    for _, data in events[:-1]:
        ChatCompletionChunk.model_validate(json.loads(data))


def _openai_responses(body: bytes, sse: bool) -> None:
    from openai.types.responses import Response, ResponseStreamEvent
    from pydantic import TypeAdapter

    if not sse:
        Response.model_validate(json.loads(body))
        return
    adapter: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)
    events = [adapter.validate_python(json.loads(data)) for _, data in sse_events(body)]
    assert events[0].type == "response.created" and events[-1].type in (
        "response.completed",
        "response.incomplete",
    )


def _anthropic_messages(body: bytes, sse: bool) -> None:
    from anthropic.types import Message, RawMessageStreamEvent
    from pydantic import TypeAdapter

    if not sse:
        Message.model_validate(json.loads(body))
        return
    adapter: TypeAdapter[Any] = TypeAdapter(RawMessageStreamEvent)
    kinds = []
    for event, data in sse_events(body):
        payload = json.loads(data)
        assert event == payload["type"], f"event: {event} carries data of type {payload['type']}"
        if event != "ping":
            adapter.validate_python(payload)
        kinds.append(event)
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop", kinds
    assert kinds[-2] == "message_delta", kinds


def _anthropic_count(body: bytes, sse: bool) -> None:
    from anthropic.types import MessageTokensCount

    MessageTokensCount.model_validate(json.loads(body))


def _hf_model_info(body: bytes, sse: bool) -> None:
    from huggingface_hub.hf_api import ModelInfo

    info = ModelInfo(**json.loads(body))
    assert info.id


def _hf_chat(body: bytes, sse: bool) -> None:
    from huggingface_hub import ChatCompletionOutput, ChatCompletionStreamOutput

    if not sse:
        data = json.loads(body)
        assert not _hf_required(ChatCompletionOutput, data), _hf_required(ChatCompletionOutput, data)
        ChatCompletionOutput.parse_obj_as_instance(data)
        return
    events = sse_events(body)
    assert events and events[-1][1] == "[DONE]"
    for _, data in events[:-1]:
        ChatCompletionStreamOutput.parse_obj_as_instance(json.loads(data))


def _hf_inference(body: bytes, sse: bool, content_type: str = "") -> None:
    if content_type.startswith("image/"):
        from PIL import Image

        Image.open(io.BytesIO(body)).verify()
        return
    from huggingface_hub import TextClassificationOutputElement

    data = json.loads(body)
    for element in TextClassificationOutputElement.parse_obj_as_list(data[0]):
        assert element.label and 0.0 <= element.score <= 1.0


def validator_for(method: str, uri: str) -> Callable[..., None] | None:
    """The validator of one recorded request, by provider endpoint (``None``: unknown endpoint)."""
    parts = urlsplit(uri)
    host, path = parts.hostname or "", parts.path
    if host == "api.openai.com":
        if path.startswith("/v1/models"):
            return _openai_models
        if path == "/v1/chat/completions":
            return _openai_chat
        if path == "/v1/responses":
            return _openai_responses
    if host == "api.anthropic.com":
        if path == "/v1/messages":
            return _anthropic_messages
        if path == "/v1/messages/count_tokens":
            return _anthropic_count
    if host == "huggingface.co" and path.startswith("/api/models/") and method == "GET":
        return _hf_model_info
    if host == "router.huggingface.co":
        if path.endswith("/chat/completions"):
            return _hf_chat
        if path.startswith("/hf-inference/models/"):
            return _hf_inference
    return None


def error_problem(uri: str, status: int, body: bytes) -> str | None:
    """An error body must be in its provider's error format."""
    host = urlsplit(uri).hostname or ""
    try:
        data = json.loads(body)
    except ValueError:
        return f"{status} body is not JSON"
    if host == "api.openai.com" and not isinstance((data.get("error") or {}).get("message"), str):
        return "OpenAI error without error.message"
    if host == "api.anthropic.com" and not (
        data.get("type") == "error" and data.get("error", {}).get("type")
    ):
        return "Anthropic error without type/error.type"
    if "huggingface.co" in host and "error" not in data:
        return "Hugging Face error without 'error'"
    return None


def check_cassette(path: Path) -> list[str]:
    """Everything wrong with one cassette (an empty list when the SDKs can read all of it).

    A cassette must say what it was recorded against; stand-in recordings must carry the stand-in's
    marker header on every response, live recordings must not.
    """
    problems = [f"{path.name}: {p}" for p in secret_problems(path.read_text(encoding="utf-8"))]
    source = recorded_against(path)
    if source is None:
        problems.append(f"{path.name}: no '{RECORDED_AGAINST}' metadata (record it with python -m apicourse.record)")
    require_standin_marker = source is None or "stand-in" in source
    for number, interaction in enumerate(load(path)):
        request, response = interaction["request"], interaction["response"]
        where = f"{path.name} #{number} {request['method']} {request['uri']}"
        body = body_bytes(response)
        status = int(response["status"]["code"])
        if require_standin_marker and header(response, STANDIN_HEADER) != "1":
            problems.append(f"{where}: no {STANDIN_HEADER} header")
        if not require_standin_marker and header(response, STANDIN_HEADER):
            problems.append(f"{where}: says it was recorded live but carries the stand-in's {STANDIN_HEADER} header")
        if status >= 400:
            problem = error_problem(request["uri"], status, body)
            if problem:
                problems.append(f"{where}: {problem}")
            continue
        validator = validator_for(request["method"], request["uri"])
        if validator is None:
            problems.append(f"{where}: no validator for this endpoint (add one in tests/cassette_checks.py)")
            continue
        content_type = header(response, "content-type")
        sse = content_type.startswith("text/event-stream")
        try:
            if validator is _hf_inference:
                validator(body, sse, content_type)
            else:
                validator(body, sse)
        except Exception as error:  # noqa: BLE001 - report every problem, not just the first
            problems.append(f"{where}: {type(error).__name__}: {str(error)[:400]}")
    return problems
