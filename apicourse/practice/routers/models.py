"""``/v1/models``: the practice models (each only echoes), listed or fetched one at a time."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Security

from apicourse.practice.bodies import DepthCheckedRoute
from apicourse.practice.config import MODELS
from apicourse.practice.errors import APIError
from apicourse.practice.openapi import AUTHENTICATED, refusal, success
from apicourse.practice.ratelimit import rate_limited
from apicourse.practice.schemas import ModelList, ModelObject

router = APIRouter(
    prefix="/v1/models",
    tags=["models"],
    dependencies=[Security(rate_limited, scopes=["models:read"])],
    responses=AUTHENTICATED,
    route_class=DepthCheckedRoute,
)


def model_object(model_id: str) -> dict[str, Any]:
    """One model as OpenAI describes it.

    >>> model_object("gpt-4o")["object"]
    'model'
    """
    return {"id": model_id, "object": "model", "created": 1_700_000_000, "owned_by": "apicourse-practice"}


@router.get("", summary="List models", response_model=ModelList, responses=success())
async def list_models() -> dict[str, Any]:
    """Every model, in ``data``."""
    return {"object": "list", "data": [model_object(m) for m in MODELS]}


@router.get(
    "/{model_id}",
    summary="Get one model",
    response_model=ModelObject,
    responses={
        **success(),
        **refusal(404, "Not Found: no such model.", "The model 'gpt-99' does not exist.", "model_not_found", "model"),
    },
)
async def get_model(model_id: str) -> dict[str, Any]:
    """One model, or 404 ``model_not_found``."""
    if model_id not in MODELS:
        raise APIError(404, f"The model '{model_id}' does not exist.", param="model", code="model_not_found")
    return model_object(model_id)
