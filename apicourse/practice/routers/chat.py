"""``POST /v1/chat/completions``: a deterministic echo in OpenAI's shape, with ``usage``.

It counts against both limits: one request, and the tokens of the prompt and the answer.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Request, Security

from apicourse.practice.bodies import DepthCheckedRoute
from apicourse.practice.config import MODELS
from apicourse.practice.echo import count_tokens, echo_answer
from apicourse.practice.errors import APIError
from apicourse.practice.openapi import AUTHENTICATED, errors, refusal, success
from apicourse.practice.ratelimit import admit
from apicourse.practice.schemas import ChatCompletion, ChatRequest
from apicourse.practice.scopes import authorized
from apicourse.practice.state import Caller, StateDep

router = APIRouter(prefix="/v1/chat", tags=["chat"], responses=AUTHENTICATED, route_class=DepthCheckedRoute)


@router.post(
    "/completions",
    summary="Create a chat completion (an echo)",
    response_model=ChatCompletion,
    responses={
        **success(),
        **errors(400, 422),
        **refusal(
            404,
            "Not Found: no such model; `GET /v1/models` lists them.",
            "The model 'gpt-99' does not exist.",
            "model_not_found",
            "model",
        ),
    },
)
async def chat(
    request: Request,
    state: StateDep,
    body: ChatRequest,
    who: Annotated[Caller, Security(authorized, scopes=["chat:write"])],
) -> dict[str, Any]:
    """The practice model's answer: your last message, echoed (cut short by ``max_tokens``)."""
    if body.model not in MODELS:
        admit(request, who, 0)
        raise APIError(404, f"The model '{body.model}' does not exist.", param="model", code="model_not_found")
    messages = [m.model_dump() for m in body.messages]
    content, finish = echo_answer(messages, body.max_tokens)
    prompt_tokens = sum(count_tokens(m["content"]) for m in messages)
    completion_tokens = count_tokens(content)
    admit(request, who, prompt_tokens + completion_tokens, body.model)
    return {
        "id": state.next_id("chatcmpl"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
