"""Find things that look like real API keys or recorded credentials, before git does.

    >>> fake = "sk-" + "A1b2" * 10
    >>> [kind for kind, _ in scan_text("OPENAI_API_KEY=" + fake)]
    ['OpenAI key']
    >>> scan_text("OPENAI_API_KEY=sk-replay-placeholder")
    []

The test-suite runs :func:`find_secrets` over every tracked file: notebooks, cassettes, code.
"""

from __future__ import annotations

import re
from pathlib import Path

PATTERNS: dict[str, re.Pattern[str]] = {
    "OpenAI key": re.compile(r"\bsk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,}"),
    "Anthropic key": re.compile(r"\bsk-ant-[A-Za-z0-9_-]{24,}"),
    "Hugging Face token": re.compile(r"\bhf_[A-Za-z0-9]{30,}"),
    "Bearer token": re.compile(r"\bBearer\s+(?!\{)[A-Za-z0-9._~+/-]{20,}=*"),
    # a header recorded in a cassette (YAML) or a notebook output (JSON), with a value
    "recorded credential header": re.compile(
        r"""(?im)^\s*["']?(?:authorization|x-api-key|api-key)["']?\s*:\s*(?:\n\s*-\s*)?["']?[^\s"'{}\[\]]{8,}"""
    ),
}


def scan_text(text: str) -> list[tuple[str, str]]:
    """Every ``(kind, excerpt)`` in ``text`` that looks like a secret; the excerpt is masked."""
    found = []
    for kind, pattern in PATTERNS.items():
        for match in pattern.finditer(text):
            value = match.group(0).strip()
            found.append((kind, value[:12] + "…"))
    return found


def find_secrets(path: Path) -> list[str]:
    """Secrets in one file, as ``"kind (excerpt…)"`` strings; binary files are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return []
    return [f"{kind} ({excerpt})" for kind, excerpt in scan_text(text)]
