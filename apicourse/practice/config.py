"""What a practice server is: its address, its models and scopes, and the knobs a lesson can turn.

>>> PracticeConfig(rpm=3, window_seconds=2).rpm
3
>>> "chat:write" in SCOPES and "models:read" in READ_SCOPES
True
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

HOST = "127.0.0.1"
"""The only interface the practice API ever listens on."""

KEY_VAR = "PRACTICE_API_KEY"
"""The environment variable (and ``.env`` entry) that holds the learner's practice key."""

MODELS: tuple[str, ...] = ("gpt-4o", "gpt-4o-mini", "practice-echo")
"""The practice API's models. Named like the course text's examples so its code runs unchanged —
but every one of them only echoes your last message back."""

SCOPES: dict[str, str] = {
    "models:read": "list models",
    "files:read": "list and fetch files",
    "files:write": "upload and delete files",
    "fine_tuning:read": "list and fetch fine-tuning jobs",
    "fine_tuning:write": "create, change, cancel and delete fine-tuning jobs",
    "chat:write": "create chat completions",
}
"""Every OAuth scope the practice API knows, with what it allows. An API key has all of them."""

READ_SCOPES: tuple[str, ...] = tuple(s for s in SCOPES if s.endswith(":read"))
"""The scopes that never change anything."""

FILE_PURPOSES = ("fine-tune", "assistants", "batch", "user_data")
"""What an uploaded file may be for (OpenAI's ``purpose`` values)."""


@dataclass
class PracticeConfig:
    """The knobs of one practice server; change them while it runs with ``api.configure(...)``.

    >>> PracticeConfig().window_seconds
    60.0
    """

    rpm: int = 60
    """Requests allowed per key per window (0 refuses every request)."""
    tpm: int = 10_000
    """Tokens (``usage.total_tokens`` of chat completions) allowed per key per window."""
    window_seconds: float = 60.0
    """How long the practice API's "minute" lasts. Shrink it so limits reset within seconds."""
    token_lifetime: float = 3600.0
    """Seconds an OAuth access token stays valid."""
    max_body_bytes: int = 1_000_000
    """Largest request body accepted; bigger ones get 413."""


def replace_config(config: PracticeConfig, changes: dict[str, Any]) -> PracticeConfig:
    """A copy of ``config`` with some settings changed.

    >>> replace_config(PracticeConfig(), {"rpm": 5}).rpm
    5
    """
    return replace(config, **changes)
