"""Small helpers shared by the stand-in's providers: ids, token counts, headers, SSE framing."""

from __future__ import annotations

import hashlib
import json
import re
import string
from typing import Any

from fastapi import Response

STANDIN_HEADER = "x-apicourse-standin"
"""Every stand-in response carries ``x-apicourse-standin: 1``: a cassette made from it never passes
for a live recording."""

BASE_TIME = 1_790_000_000
"""Timestamps are deterministic (re-recording gives the same cassette): this base plus a hash."""

_ALNUM = string.ascii_letters + string.digits
_TOKEN = re.compile(r"[A-Za-z]{1,6}|\d{1,3}|[^\sA-Za-z\d]")


def count_tokens(text: str) -> int:
    """A deterministic, tokenizer-ish count: short letter runs, digit groups and punctuation.

    >>> count_tokens("Hello, world!")
    4
    >>> count_tokens("")
    0
    """
    return len(_TOKEN.findall(text or ""))


def digest(*parts: Any) -> bytes:
    """A stable hash of anything JSON-able (or bytes)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else json.dumps(part, sort_keys=True, default=str).encode())
        h.update(b"\x00")
    return h.digest()


def stable_id(prefix: str, seed: bytes, length: int, alphabet: str = _ALNUM) -> str:
    """An id like the provider's, derived from ``seed`` so it is the same on every run.

    >>> stable_id("call_", b"x", 8) == stable_id("call_", b"x", 8)
    True
    >>> stable_id("call_", b"x", 8).startswith("call_")
    True
    """
    value = int.from_bytes(hashlib.sha256(prefix.encode() + seed).digest() * 2, "big")
    chars = []
    for _ in range(length):
        value, rem = divmod(value, len(alphabet))
        chars.append(alphabet[rem])
    return prefix + "".join(chars)


def stable_time(seed: bytes) -> int:
    """A deterministic Unix time near :data:`BASE_TIME`."""
    return BASE_TIME + int.from_bytes(seed[:3], "big") % 5_000_000


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response with the stand-in marker header (compact JSON, as the APIs send it)."""
    return Response(
        content=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        media_type="application/json",
        headers={STANDIN_HEADER: "1", **(headers or {})},
    )


def sse_data(data: Any) -> str:
    """One OpenAI-style SSE event (``data:`` only)."""
    return "data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n\n"


def sse_event(event: str, data: Any) -> str:
    """One Anthropic-style SSE event (``event:`` + ``data:``)."""
    return f"event: {event}\ndata: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n\n"


def text_pieces(text: str) -> list[str]:
    """Split text the way streams deliver it: word by word, spaces kept.

    >>> text_pieces("Hi there, you.")
    ['Hi', ' there,', ' you.']
    """
    return re.findall(r"\s*\S+", text) or ([text] if text else [])


def json_pieces(arguments: str, size: int = 12) -> list[str]:
    """Split a JSON string into the partial pieces a tool-call stream sends."""
    return [arguments[i : i + size] for i in range(0, len(arguments), size)] or [""]


def truncate_to_tokens(text: str, limit: int | None) -> tuple[str, bool]:
    """Cut ``text`` after ``limit`` tokens; say whether it was cut.

    >>> truncate_to_tokens("one two three four", 2)
    ('one two', True)
    >>> truncate_to_tokens("one two", 5)
    ('one two', False)
    """
    if limit is None or count_tokens(text) <= limit:
        return text, False
    out = ""
    for piece in text_pieces(text):
        if count_tokens(out + piece) > limit:
            break
        out += piece
    return out, True


def bearer_key(authorization: str | None) -> str:
    """The key in an ``Authorization: Bearer ...`` header ('' if none)."""
    if not authorization:
        return ""
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def rejected_key(key: str) -> bool:
    """The stand-in accepts any key except an empty one or one containing ``invalid`` or ``wrong``
    (so a lesson can show a 401 by passing ``api_key="sk-invalid"``).

    >>> rejected_key("sk-replay-placeholder"), rejected_key("sk-invalid"), rejected_key("")
    (False, True, True)
    """
    lowered = key.lower()
    return not key or "invalid" in lowered or "wrong" in lowered


def masked(key: str) -> str:
    """How APIs echo a bad key: the first few characters only.

    >>> masked("sk-invalid-key")
    'sk-inv********'
    """
    return key[:6] + "*" * max(len(key) - 6, 0)
