"""The models the stand-in knows: listed, retired, and Hugging Face metadata."""

from __future__ import annotations

from typing import Any

from apicourse import models

OPENAI_MODELS: tuple[str, ...] = (
    "gpt-4o", "gpt-4o-2024-08-06", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", "gpt-4.1", "gpt-4.1-mini",
    "gpt-4.1-nano", "gpt-5", "gpt-5-mini", "gpt-5-nano", "o3", "o4-mini", "gpt-5.4", "gpt-5.4-mini", "gpt-5.4-nano",
    "gpt-5.5", "gpt-5.6-terra", "gpt-5.6-luna", "gpt-6-luna", "gpt-6.1-terra", "gpt-6.2-sol", "text-embedding-3-small",
    "text-embedding-3-large", "dall-e-3", "gpt-image-1", "whisper-1", "tts-1", "omni-moderation-latest",
)  # fmt: skip
OPENAI_SNAPSHOTS = {"gpt-4o": "gpt-4o-2024-08-06", "gpt-4o-mini": "gpt-4o-mini-2024-07-18"}
RETIRED: tuple[str, ...] = (
    "gpt-4-32k", "gpt-3.5-turbo-0301", "gpt-4-vision-preview", "text-davinci-003", "code-davinci-002",
    "claude-2.0", "claude-2.1", "claude-instant-1.2", "claude-3-sonnet-20240229", "claude-3-opus-20240229",
)  # fmt: skip
"""Models the stand-in answers with 404, as the real APIs do once a model is retired.
Any name containing ``retired`` is treated the same (for lessons that show the error)."""


def is_retired(model: str) -> bool:
    """Whether the stand-in answers this model with the provider's 404.

    >>> is_retired("claude-2.1"), is_retired("gpt-4o"), is_retired("my-retired-model")
    (True, False, True)
    """
    return model in RETIRED or "retired" in model.lower()


def openai_models() -> list[str]:
    """The ids ``GET /v1/models`` lists: a plausible set, less what OpenAI has shut down by today (the
    retirement table, :mod:`apicourse.model_check`), plus whatever the course is configured to use."""
    from datetime import date

    from apicourse.model_check import shutdown_of

    names = [m for m in OPENAI_MODELS if (found := shutdown_of(m)) is None or found.on > date.today()]
    for extra in (models.openai(), models.openai_small()):
        if extra not in names and not is_retired(extra):
            names.append(extra)
    return names


def openai_model(model_id: str) -> dict[str, Any]:
    owner = "system" if model_id.startswith(("gpt-", "o3", "o4")) else "openai-internal"
    created = 1_715_367_049 + 86_400 * (sum(model_id.encode()) % 500)
    return {"id": model_id, "object": "model", "created": created, "owned_by": owner}


def openai_snapshot(model: str) -> str:
    """The dated snapshot the API names in its answer (``gpt-4o`` → ``gpt-4o-2024-08-06``)."""
    return OPENAI_SNAPSHOTS.get(model, model)


# --- Hugging Face ------------------------------------------------------------------------------


def hf_pipeline_tag(model_id: str) -> str:
    """The model's task on the Hub, as the stand-in guesses it from the name (configured models first)."""
    if model_id == models.hf_classify():
        return "text-classification"
    if model_id == models.hf_image():
        return "text-to-image"
    lowered = model_id.lower()
    if any(k in lowered for k in ("sst-2", "sentiment", "emotion", "classif", "nli")):
        return "text-classification"
    if any(k in lowered for k in ("diffusion", "flux", "sdxl", "image")):
        return "text-to-image"
    return "text-generation"


def hf_provider_mapping(model_id: str) -> list[dict[str, Any]]:
    """``inferenceProviderMapping`` as the Hub lists it: chat models are ``conversational`` only."""
    tag = hf_pipeline_tag(model_id)
    if tag == "text-generation":
        short = model_id.split("/")[-1]
        return [
            {
                "provider": "together",
                "providerId": f"{model_id}-Turbo",
                "status": "live",
                "task": "conversational",
            },
            {
                "provider": "novita",
                "providerId": model_id.lower(),
                "status": "live",
                "task": "conversational",
            },
            {"provider": "groq", "providerId": short.lower(), "status": "live", "task": "conversational"},
        ]
    return [{"provider": "hf-inference", "providerId": model_id, "status": "live", "task": tag}]


def hf_model_info(model_id: str, expand: list[str]) -> dict[str, Any]:
    """``GET /api/models/<id>``: with ``expand``, only ``_id``, ``id`` and the expanded fields (as the Hub)."""
    tag = hf_pipeline_tag(model_id)
    full: dict[str, Any] = {
        "_id": (model_id.encode().hex() * 2)[:24],
        "id": model_id,
        "modelId": model_id,
        "author": model_id.split("/")[0] if "/" in model_id else None,
        "private": False,
        "gated": "manual" if model_id.startswith("meta-llama/") else False,
        "disabled": False,
        "downloads": 1000 + sum(model_id.encode()) * 37,
        "likes": 100 + sum(model_id.encode()) % 5000,
        "pipeline_tag": tag,
        "library_name": {"text-to-image": "diffusers"}.get(tag, "transformers"),
        "tags": sorted({tag, "safetensors", "en", {"text-to-image": "diffusers"}.get(tag, "transformers")}),
        "sha": (model_id.encode().hex() * 4)[:40],
        "lastModified": "2025-01-15T10:00:00.000Z",
        "createdAt": "2024-01-01T00:00:00.000Z",
        "siblings": [{"rfilename": "README.md"}, {"rfilename": "config.json"}],
        "inferenceProviderMapping": hf_provider_mapping(model_id),
    }
    if expand:
        return {"_id": full["_id"], "id": model_id, **{k: full[k] for k in expand if k in full}}
    return {k: v for k, v in full.items() if k != "inferenceProviderMapping"}
