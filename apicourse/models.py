"""Every model name the course uses, in one place, each overridable by an environment variable.

Lessons never spell a model name in code; they use these::

    from apicourse import models
    client.chat.completions.create(model=models.openai(), ...)

When a provider retires a model, a learner sets the matching variable in ``.env`` (for example
``APICOURSE_OPENAI_MODEL=gpt-4.1``) and restarts the kernel; nothing else changes. Note that a cassette
answers only the model it was recorded with, so overrides matter in live mode.

>>> openai({})
'gpt-4o'
>>> openai({"APICOURSE_OPENAI_MODEL": "gpt-4.1"})
'gpt-4.1'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSetting:
    """One model the course uses: its env var, its default, and what it is for."""

    name: str
    env_var: str
    default: str
    purpose: str

    def get(self, environ: Mapping[str, str] | None = None) -> str:
        """The model to use now: the env var if set (and not blank), else the default."""
        env = os.environ if environ is None else environ
        return (env.get(self.env_var) or "").strip() or self.default


SETTINGS: tuple[ModelSetting, ...] = (
    ModelSetting(
        "openai", "APICOURSE_OPENAI_MODEL", "gpt-4o", "OpenAI chat, tools, streaming, Responses API"
    ),
    ModelSetting(
        "openai_small", "APICOURSE_OPENAI_SMALL_MODEL", "gpt-4o-mini", "cheaper OpenAI model (cost lessons)"
    ),
    ModelSetting(
        "anthropic",
        "APICOURSE_ANTHROPIC_MODEL",
        "claude-sonnet-4-20250514",
        "Anthropic Messages, tool use, streaming",
    ),
    ModelSetting(
        "anthropic_small",
        "APICOURSE_ANTHROPIC_SMALL_MODEL",
        "claude-haiku-4-5-20251001",
        "cheaper Anthropic model (cost lessons)",
    ),
    ModelSetting(
        "hf_chat",
        "APICOURSE_HF_CHAT_MODEL",
        "meta-llama/Llama-3.3-70B-Instruct",
        "open chat model via HF router",
    ),
    ModelSetting(
        "hf_classify",
        "APICOURSE_HF_CLASSIFY_MODEL",
        "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
        "sentiment classification",
    ),
    ModelSetting(
        "hf_image", "APICOURSE_HF_IMAGE_MODEL", "stabilityai/stable-diffusion-xl-base-1.0", "text-to-image"
    ),
)
BY_NAME: dict[str, ModelSetting] = {s.name: s for s in SETTINGS}


def openai(environ: Mapping[str, str] | None = None) -> str:
    """The OpenAI chat model (default ``gpt-4o``; ``APICOURSE_OPENAI_MODEL``)."""
    return BY_NAME["openai"].get(environ)


def openai_small(environ: Mapping[str, str] | None = None) -> str:
    """The cheaper OpenAI model (default ``gpt-4o-mini``; ``APICOURSE_OPENAI_SMALL_MODEL``)."""
    return BY_NAME["openai_small"].get(environ)


def anthropic(environ: Mapping[str, str] | None = None) -> str:
    """The Claude model (default ``claude-sonnet-4-20250514``; ``APICOURSE_ANTHROPIC_MODEL``)."""
    return BY_NAME["anthropic"].get(environ)


def anthropic_small(environ: Mapping[str, str] | None = None) -> str:
    """The cheaper Claude model (default ``claude-haiku-4-5-20251001``; ``APICOURSE_ANTHROPIC_SMALL_MODEL``)."""
    return BY_NAME["anthropic_small"].get(environ)


def hf_chat(environ: Mapping[str, str] | None = None) -> str:
    """The open chat model on Hugging Face (``APICOURSE_HF_CHAT_MODEL``).

    >>> hf_chat({})
    'meta-llama/Llama-3.3-70B-Instruct'
    """
    return BY_NAME["hf_chat"].get(environ)


def hf_classify(environ: Mapping[str, str] | None = None) -> str:
    """The sentiment classifier (``APICOURSE_HF_CLASSIFY_MODEL``)."""
    return BY_NAME["hf_classify"].get(environ)


def hf_image(environ: Mapping[str, str] | None = None) -> str:
    """The text-to-image model (``APICOURSE_HF_IMAGE_MODEL``)."""
    return BY_NAME["hf_image"].get(environ)


def env_var_for(model: str, environ: Mapping[str, str] | None = None) -> str | None:
    """Which variable overrides the setting now using ``model`` (to tell a learner what to change).

    >>> env_var_for("gpt-4o", {})
    'APICOURSE_OPENAI_MODEL'
    >>> env_var_for("no-such-model", {}) is None
    True
    """
    return next((s.env_var for s in SETTINGS if s.get(environ) == model), None)


def table(environ: Mapping[str, str] | None = None) -> str:
    """The models in use and how to change them, as text (for a lesson's ``print``)."""
    rows = [f"{s.env_var:<34}{s.get(environ):<58}{s.purpose}" for s in SETTINGS]
    return "\n".join([f"{'variable':<34}{'model now':<58}what for", *rows])
