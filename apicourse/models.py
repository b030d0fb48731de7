"""Every model name the course uses, in one place, each overridable by an environment variable.

Lessons never spell a model name in code; they use these::

    from apicourse import models
    client.chat.completions.create(model=models.openai(), ...)

When a provider retires a model, a learner sets the matching variable in ``.env`` (for example
``APICOURSE_OPENAI_MODEL=gpt-6.1-sol``) and restarts the kernel; nothing else changes. Check what is
configured, offline, against the retirement table below and the pinned SDKs' own lists of model ids::

    python -m apicourse.models --check          # with a provider key it also asks the provider

>>> openai({})
'gpt-6.1-terra'
>>> openai({"APICOURSE_OPENAI_MODEL": "gpt-5.5"})
'gpt-5.5'

Each default records the day it was checked and where; :data:`RETIREMENTS` records every shutdown the
course knows of, each with its source. Update both together, on the same day, when a provider announces
the next retirement (``python -m apicourse.models --check`` fails until you do).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ModelSetting:
    """One model the course uses: its env var, its default, what it is for, and when and where the
    default was checked (not retired, not announced for shutdown, known to the pinned SDK)."""

    name: str
    env_var: str
    default: str
    purpose: str
    provider: str = ""
    checked: str = ""
    source: str = ""

    def get(self, environ: Mapping[str, str] | None = None) -> str:
        """The model to use now: the env var if set (and not blank), else the default."""
        env = os.environ if environ is None else environ
        return (env.get(self.env_var) or "").strip() or self.default


# Sources for the defaults (read 2026-12-02 with the project's search tool; pinned SDKs read from their
# installed source):
# * openai 3.57.0 ``types/shared/chat_model.py``: lists gpt-6.1-terra and gpt-6-luna with no deprecation
#   note (its docstring lists every announced shutdown); anthropic 2.14.0 ``types/model.py`` lists
#   claude-sonnet-5-5 and claude-haiku-5-5, and ``_data/deprecated_models.py`` does not name them.
# * https://developers.openai.com/api/docs/deprecations — gpt-6-luna is the recommended replacement for
#   gpt-4o, gpt-4o-mini, gpt-4.1 and gpt-4.1-mini (shutdown 2027-01-14); gpt-6.1-terra for gpt-5-mini.
#   GPT-6.1 Terra (2026-10-26): Chat Completions, Responses and Batch, reasoning effort none..max,
#   default medium (https://docs.litellm.ai/blog/gpt-6-1-terra). Both are reasoning models: they take
#   ``max_completion_tokens`` and refuse a non-default ``temperature`` (see apicourse/standin/rules.py).
# * https://platform.claude.com/docs/en/models/sonnet-5/overview — "Claude Sonnet 5.5 is the current Sonnet
#   model"; Sonnet 5.5 (2026-09-28) runs adaptive thinking by default, so an answer can begin with a
#   thinking block: read blocks by type. Haiku 5.5 is "active" on Anthropic's model status table as re-read
#   on 2026-11-26 (samarthputhraya/Modelpin release 0.5.7 notes).
_OPENAI_SRC = "openai 3.57.0 types/shared/chat_model.py; developers.openai.com/api/docs/deprecations"
_ANTHROPIC_SRC = "anthropic 2.14.0 types/model.py; platform.claude.com/docs/en/about-claude/model-deprecations"

SETTINGS: tuple[ModelSetting, ...] = (
    ModelSetting(
        "openai", "APICOURSE_OPENAI_MODEL", "gpt-6.1-terra", "OpenAI chat, tools, streaming, Responses API",
        "openai", "2026-12-02", _OPENAI_SRC,
    ),
    ModelSetting(
        "openai_small", "APICOURSE_OPENAI_SMALL_MODEL", "gpt-6-luna", "cheaper OpenAI model (cost lessons)",
        "openai", "2026-12-02", _OPENAI_SRC,
    ),
    ModelSetting(
        "anthropic", "APICOURSE_ANTHROPIC_MODEL", "claude-sonnet-5-5", "Anthropic Messages, tool use, streaming",
        "anthropic", "2026-12-02", _ANTHROPIC_SRC,
    ),
    ModelSetting(
        "anthropic_small", "APICOURSE_ANTHROPIC_SMALL_MODEL", "claude-haiku-5-5",
        "cheaper Anthropic model (cost lessons)", "anthropic", "2026-12-02", _ANTHROPIC_SRC,
    ),
    ModelSetting(
        "hf_chat", "APICOURSE_HF_CHAT_MODEL", "meta-llama/Llama-3.3-70B-Instruct", "open chat model via HF router",
        "huggingface",
    ),
    ModelSetting(
        "hf_classify", "APICOURSE_HF_CLASSIFY_MODEL", "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
        "sentiment classification", "huggingface",
    ),
    ModelSetting(
        "hf_image", "APICOURSE_HF_IMAGE_MODEL", "stabilityai/stable-diffusion-xl-base-1.0", "text-to-image",
        "huggingface",
    ),
)  # fmt: skip
BY_NAME: dict[str, ModelSetting] = {s.name: s for s in SETTINGS}

# --- retirements ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retirement:
    """A provider's shutdown of a model id: from ``shutdown`` on, requests naming it fail."""

    model: str
    provider: str
    shutdown: date
    replacement: str | None
    source: str

    def retired(self, today: date) -> bool:
        """Whether the model no longer answers on ``today``."""
        return today >= self.shutdown


TABLE_CHECKED = "2026-12-02"
"""When :data:`RETIREMENTS` was last compared with the providers' deprecation pages."""

_OAI_PAGE = "https://developers.openai.com/api/docs/deprecations"
_ANT_PAGE = "https://platform.claude.com/docs/en/about-claude/model-deprecations"


def _rows(provider: str, ids: str, shutdown: str, replacement: str | None, source: str) -> list[Retirement]:
    day = date.fromisoformat(shutdown)
    return [Retirement(m, provider, day, replacement, source) for m in ids.split()]


# The OpenAI rows restate the pinned SDK's deprecation notes (types/shared/chat_model.py, which
# :mod:`apicourse.model_check` also reads) and add the page's recommended replacement. The Anthropic rows
# come from the deprecations page (mirrored in samarthputhraya/Modelpin data/models.json, fetched
# 2026-09-17) and release-note mirrors; retired Claude ids are no longer in the SDK's list at all.
RETIREMENTS: tuple[Retirement, ...] = tuple(
    # 2026-10-14 notice: GPT-4o / GPT-4.1 snapshots shut down 2027-01-14, replacement gpt-6-luna
    _rows("openai", "gpt-4o gpt-4o-2024-08-06 gpt-4o-2024-11-20 gpt-4o-mini gpt-4o-mini-2024-07-18 gpt-4.1 "
          "gpt-4.1-2025-04-14 gpt-4.1-mini gpt-4.1-mini-2025-04-14", "2027-01-14", "gpt-6-luna", _OAI_PAGE)
    # 2026-06-11 notice: GPT-5 and o3 shut down 2026-12-11
    + _rows("openai", "gpt-5 gpt-5-2025-08-07 o3 o3-2025-04-16", "2026-12-11", "gpt-6.1-sol", _OAI_PAGE)
    + _rows("openai", "gpt-5-mini gpt-5-mini-2025-08-07", "2026-12-11", "gpt-6.1-terra", _OAI_PAGE)
    + _rows("openai", "gpt-5-nano gpt-5-nano-2025-08-07", "2026-12-11", None, _OAI_PAGE)
    # 2026-04-22 notice: legacy snapshots shut down 2026-10-23 (DESIGN.md: gpt-3.5-turbo*, gpt-4-0613)
    + _rows("openai", "gpt-3.5-turbo gpt-3.5-turbo-0125 gpt-4 gpt-4-0613 gpt-4-turbo gpt-4-turbo-2024-04-09 "
            "gpt-4-1106-preview gpt-4o-2024-05-13 o1 o1-2024-12-17 o3-mini o3-mini-2025-01-31",
            "2026-10-23", "gpt-5.6-sol", _OAI_PAGE)
    + _rows("openai", "o4-mini o4-mini-2025-04-16", "2026-10-23", "gpt-5.6-terra", _OAI_PAGE)
    + _rows("openai", "gpt-4.1-nano gpt-4.1-nano-2025-04-14", "2026-10-23", "gpt-5.6-luna", _OAI_PAGE)
    + _rows("openai", "gpt-4-32k gpt-4-32k-0314 gpt-4-32k-0613", "2025-06-06", None, _OAI_PAGE)
    + _rows("openai", "gpt-3.5-turbo-0301 gpt-3.5-turbo-0613 gpt-3.5-turbo-16k gpt-3.5-turbo-16k-0613",
            "2024-09-13", None, _OAI_PAGE)
    + _rows("openai", "text-davinci-003 code-davinci-002", "2024-01-04", None, _OAI_PAGE)
    # Anthropic: Sonnet 4 / Opus 4 retired 2026-06-15 (the course text's model; the -4-0 aliases with them)
    + _rows("anthropic", "claude-sonnet-4-20250514 claude-sonnet-4-0", "2026-06-15", "claude-sonnet-4-6", _ANT_PAGE)
    + _rows("anthropic", "claude-opus-4-20250514 claude-opus-4-0", "2026-06-15", "claude-opus-4-8", _ANT_PAGE)
    + _rows("anthropic", "claude-opus-4-1-20250805 claude-opus-4-1", "2026-08-05", "claude-opus-4-8", _ANT_PAGE)
    # anthropic 2.14.0 _data/deprecated_models.py (end of life dates)
    + _rows("anthropic", "claude-sonnet-4-5 claude-sonnet-4-5-20250929", "2026-11-30", None,
            "anthropic 2.14.0 _data/deprecated_models.py")
    + _rows("anthropic", "claude-opus-4-5 claude-opus-4-5-20251101", "2027-01-22", "claude-opus-5-5",
            "anthropic 2.14.0 _data/deprecated_models.py; Modelpin 0.5.7 notes (deprecated 2026-11-23)")
    + _rows("anthropic", "claude-mythos-preview", "2026-06-30", None, "anthropic 2.14.0 _data/deprecated_models.py")
    # older retirements (release notes mirrored in coder/coder#22304, thevibeworks/claude-code-docs#417)
    + _rows("anthropic", "claude-3-7-sonnet-20250219 claude-3-5-haiku-20241022", "2026-02-19", None, _ANT_PAGE)
    + _rows("anthropic", "claude-3-opus-20240229", "2026-01-05", None, _ANT_PAGE)
    + _rows("anthropic", "claude-3-5-sonnet-20240620 claude-3-5-sonnet-20241022", "2025-10-28", None, _ANT_PAGE)
    + _rows("anthropic", "claude-2.0 claude-2.1 claude-3-sonnet-20240229", "2025-07-21", None, _ANT_PAGE)
    + _rows("anthropic", "claude-instant-1.2 claude-1.3", "2024-11-06", None, _ANT_PAGE)
)  # fmt: skip
RETIREMENT_OF: dict[str, Retirement] = {r.model: r for r in RETIREMENTS}


def retirement(model: str) -> Retirement | None:
    """The table's shutdown of ``model`` (retired or announced), if any.

    >>> retirement("claude-sonnet-4-20250514").shutdown.isoformat()
    '2026-06-15'
    >>> retirement("gpt-6.1-terra") is None
    True
    """
    return RETIREMENT_OF.get(model)


def is_retired(model: str, today: date | None = None) -> bool:
    """Whether the provider has shut ``model`` down by ``today`` (default: today's date).

    >>> is_retired("claude-sonnet-4-20250514", date(2026, 12, 2)), is_retired("gpt-4o", date(2026, 12, 2))
    (True, False)
    """
    found = retirement(model)
    return found is not None and found.retired(today or date.today())


# --- accessors -----------------------------------------------------------------------------------


def openai(environ: Mapping[str, str] | None = None) -> str:
    """The OpenAI chat model (default ``gpt-6.1-terra``; ``APICOURSE_OPENAI_MODEL``)."""
    return BY_NAME["openai"].get(environ)


def openai_small(environ: Mapping[str, str] | None = None) -> str:
    """The cheaper OpenAI model (default ``gpt-6-luna``; ``APICOURSE_OPENAI_SMALL_MODEL``)."""
    return BY_NAME["openai_small"].get(environ)


def anthropic(environ: Mapping[str, str] | None = None) -> str:
    """The Claude model (default ``claude-sonnet-5-5``; ``APICOURSE_ANTHROPIC_MODEL``)."""
    return BY_NAME["anthropic"].get(environ)


def anthropic_small(environ: Mapping[str, str] | None = None) -> str:
    """The cheaper Claude model (default ``claude-haiku-5-5``; ``APICOURSE_ANTHROPIC_SMALL_MODEL``)."""
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

    >>> env_var_for("gpt-6.1-terra", {})
    'APICOURSE_OPENAI_MODEL'
    >>> env_var_for("no-such-model", {}) is None
    True
    """
    return next((s.env_var for s in SETTINGS if s.get(environ) == model), None)


def table(environ: Mapping[str, str] | None = None) -> str:
    """The models in use and how to change them, as text (for a lesson's ``print``)."""
    rows = [f"{s.env_var:<34}{s.get(environ):<58}{s.purpose}" for s in SETTINGS]
    return "\n".join([f"{'variable':<34}{'model now':<58}what for", *rows])


def check(environ: Mapping[str, str] | None = None) -> bool:
    """Run ``python -m apicourse.models --check`` from a notebook: print the report, return whether all is
    well (see :mod:`apicourse.model_check`)."""
    from apicourse import model_check

    report = model_check.run(environ)
    print(report.text())
    return report.ok


if __name__ == "__main__":
    from apicourse.model_check import main

    raise SystemExit(main())


def openai_sampling(model: str, temperature: float) -> dict[str, object]:
    """The sampling settings an OpenAI chat model accepts for ``temperature`` (lesson 05 reads this).

    A classic model takes ``temperature`` as it is. A reasoning model (GPT-5/6, the o-series) takes only the
    default, unless it can switch reasoning off (``reasoning_effort="none"``), which brings ``temperature`` back;
    the rules and their sources are in :mod:`apicourse.standin.rules`. ::

        >>> openai_sampling("gpt-4.1", 0.7)
        {'temperature': 0.7}
        >>> openai_sampling("gpt-6.1-terra", 0.7)
        {'reasoning_effort': 'none', 'temperature': 0.7}
        >>> openai_sampling("gpt-6-luna", 0.7)
        {}
    """
    from apicourse.standin.rules import EFFORT_NONE_PREFIXES, is_reasoning_model

    if not is_reasoning_model(model):
        return {"temperature": temperature}
    if model.startswith(EFFORT_NONE_PREFIXES):
        return {"reasoning_effort": "none", "temperature": temperature}
    return {}  # only the default temperature: leave it out
