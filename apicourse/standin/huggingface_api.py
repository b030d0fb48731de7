"""Hugging Face's wire format: Hub model metadata, the router's chat completion (OpenAI-compatible),
hf-inference text classification and text-to-image (real PNG bytes), and ``{"error": ...}`` errors."""

from __future__ import annotations

import io
import json
import re
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from apicourse.standin import catalog, openai_api, validation
from apicourse.standin.answers import Query, reply_for
from apicourse.standin.common import (
    STANDIN_HEADER,
    bearer_key,
    digest,
    json_response,
    rejected_key,
    stable_id,
)

router = APIRouter()
_HEX = "0123456789abcdef"

POSITIVE = {"love", "loved", "great", "good", "excellent", "amazing", "wonderful", "happy", "best", "fantastic",
            "enjoy", "enjoyed", "like", "liked", "brilliant", "fun", "delightful", "beautiful", "helpful", "clear"}  # fmt: skip
NEGATIVE = {"hate", "hated", "bad", "terrible", "awful", "worst", "boring", "poor", "sad", "slow", "broken",
            "disappointing", "disappointed", "confusing", "useless", "annoying", "wrong", "never", "not", "no"}  # fmt: skip


def headers(seed: bytes, provider: str = "hf-inference") -> dict[str, str]:
    """The router's headers: a request id and which provider served the call."""
    rid = stable_id("", seed, 32, _HEX)
    return {
        "x-request-id": f"{rid[:8]}-{rid[8:12]}-{rid[12:16]}-{rid[16:20]}-{rid[20:32]}",
        "x-inference-provider": provider,
    }


def error(status: int, message: str, seed: bytes, **extra: Any) -> Response:
    """Hugging Face's error JSON: ``{"error": "..."}``."""
    return json_response({"error": message, **extra}, status, headers(seed))


def _auth_error(request: Request, seed: bytes) -> Response | None:
    if rejected_key(bearer_key(request.headers.get("authorization"))):
        return error(401, "Invalid credentials in Authorization header", seed)
    return None


@router.get("/huggingface.co/api/models/{model_id:path}")
async def model_info(request: Request, model_id: str) -> Response:
    expand = request.query_params.getlist("expand") + request.query_params.getlist("expand[]")
    seed = digest("hub", model_id, expand)
    return json_response(
        catalog.hf_model_info(model_id, expand), 200, {"x-request-id": headers(seed)["x-request-id"]}
    )


async def _chat(request: Request, provider: str) -> Response:
    raw = await request.body()
    seed = digest(request.url.path, raw)
    failed = _auth_error(request, seed)
    if failed:
        return failed
    body = json.loads(raw or b"{}")
    model = str(body.get("model", ""))
    if catalog.is_retired(model):
        return error(404, f"Model {model} does not exist", seed)
    found = validation.refusal("hf.chat", body)
    if found is not None:
        return error(found.status, found.message, seed)
    query = openai_api.chat_query(body, provider="huggingface", api="hf.chat")
    replies = [reply_for(request.app.state, query, seed[0] + i) for i in range(int(body.get("n") or 1))]
    if replies[0].is_error:
        return error(replies[0].status or 500, replies[0].error, seed)
    served_by = "together" if provider == "auto" else provider
    if body.get("stream"):
        return StreamingResponse(
            openai_api.chat_chunks(body, replies, seed, model),
            media_type="text/event-stream",
            headers={STANDIN_HEADER: "1", **headers(seed, served_by)},
        )
    completion, _ = openai_api.chat_completion(body, replies, seed, model)
    completion.pop("service_tier", None)
    return json_response(completion, 200, headers(seed, served_by))


@router.post("/router.huggingface.co/v1/chat/completions")
async def auto_chat(request: Request) -> Response:
    return await _chat(request, "auto")


@router.post("/router.huggingface.co/{rest:path}")
async def provider_call(request: Request, rest: str) -> Response:
    if rest.endswith("chat/completions"):
        return await _chat(request, rest.split("/")[0])
    match = re.fullmatch(r"hf-inference/models/(.+?)(?:/pipeline/[\w-]+)?", rest)
    seed = digest(request.url.path, await request.body())
    if match is None:
        return error(404, "Not Found", seed)
    failed = _auth_error(request, seed)
    if failed:
        return failed
    model = match.group(1)
    tag = catalog.hf_pipeline_tag(model)
    body = json.loads(await request.body() or b"{}")
    if tag == "text-classification":
        return _classify(request, body, model, seed)
    if tag == "text-to-image":
        return _image(request, body, model, seed)
    return error(
        400,
        f"Model {model} is not supported for task text-generation and provider hf-inference. "
        "Supported task: conversational.",
        seed,
    )


def _query(body: dict[str, Any], model: str, api: str) -> Query:
    inputs = body.get("inputs")
    return Query("huggingface", api, model, user_text=inputs if isinstance(inputs, str) else json.dumps(inputs),
                 params=dict(body.get("parameters") or {}))  # fmt: skip


def sentiment(text: str) -> list[dict[str, Any]]:
    """A tiny, deterministic lexicon score in SST-2's labels, most likely first.

    >>> sentiment("I love this course")[0]["label"]
    'POSITIVE'
    >>> sentiment("This was boring and slow")[0]["label"]
    'NEGATIVE'
    """
    words = re.findall(r"[a-z']+", text.lower())
    score = sum(w in POSITIVE for w in words) - sum(w in NEGATIVE for w in words)
    positive = 1 / (1 + 2.718281828 ** (-(score * 2.2 + 0.4)))
    positive = min(max(positive, 0.0002), 0.9998)
    labels = [
        {"label": "POSITIVE", "score": round(positive, 6)},
        {"label": "NEGATIVE", "score": round(1 - positive, 6)},
    ]
    return sorted(labels, key=lambda x: -x["score"])


def _classify(request: Request, body: dict[str, Any], model: str, seed: bytes) -> Response:
    query = _query(body, model, "hf.text-classification")
    reply = reply_for(request.app.state, query, seed[0])
    if reply.is_error:
        return error(reply.status or 500, reply.error, seed)
    labels = reply.labels or sentiment(query.user_text)
    top_k = (body.get("parameters") or {}).get("top_k")
    if top_k:
        labels = labels[: int(top_k)]
    return json_response([labels], 200, headers(seed))


def png_for(
    prompt: str, width: int = 256, height: int = 256, options: dict[str, Any] | None = None, stamp: bool = False
) -> bytes:
    """A small, deterministic PNG for a prompt: a sky, a sun and hills in colours drawn from its hash
    (``stamp``: with "offline stand-in" written across it, the sandbox's placeholder).

    >>> png_for("a red fox")[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    >>> png_for("a red fox") == png_for("a red fox")
    True
    """
    from PIL import Image, ImageDraw

    options = options or {}
    h = digest(prompt)
    sky = tuple(int(v) for v in options.get("sky", (80 + h[0] % 120, 120 + h[1] % 100, 180 + h[2] % 70)))
    land = tuple(int(v) for v in options.get("land", (40 + h[3] % 80, 100 + h[4] % 100, 40 + h[5] % 60)))
    image = Image.new("RGB", (width, height), sky)
    draw = ImageDraw.Draw(image)
    for y in range(0, height, 8):  # a banded sky, lighter towards the horizon
        shade = tuple(min(255, c + y // 3) for c in sky)
        draw.rectangle([0, y, width, y + 8], fill=shade)
    r = width // 9 + h[6] % (width // 10)
    cx, cy = width // 5 + h[7] % (width * 3 // 5), height // 6 + h[8] % (height // 5)
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(255, 220 - h[9] % 60, 90))
    for i in range(3):
        top = height // 2 + i * height // 10 + h[10 + i] % (height // 10)
        x0 = -width // 3 + (h[13 + i] % (width // 2))
        colour = tuple(max(0, c - 18 * i) for c in land)
        draw.ellipse([x0, top, x0 + width * 3 // 2, top + height], fill=colour)
    if stamp:
        draw.rectangle([0, height - 22, width, height], fill=(0, 0, 0))
        draw.text((6, height - 17), "offline stand-in: not a model's image", fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _image(request: Request, body: dict[str, Any], model: str, seed: bytes) -> Response:
    query = _query(body, model, "hf.text-to-image")
    reply = reply_for(request.app.state, query, seed[0])
    if reply.is_error:
        return error(reply.status or 500, reply.error, seed)
    params = body.get("parameters") or {}
    width = min(int(reply.image.get("width") or params.get("width") or 256), 512)
    height = min(int(reply.image.get("height") or params.get("height") or 256), 512)
    png = png_for(query.user_text, width, height, reply.image, stamp=getattr(request.app.state, "sandbox", False))
    return Response(png, 200, media_type="image/png", headers={STANDIN_HEADER: "1", **headers(seed)})
