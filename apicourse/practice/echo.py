"""The practice "model": it counts tokens roughly and repeats your last message back.

>>> echo_answer([{"role": "user", "content": "Hi"}])[1]
'stop'
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    """A rough stand-in for a tokenizer: words and punctuation marks.

    >>> count_tokens("Explain APIs in one sentence.")
    6
    """
    return len(_TOKEN.findall(text))


def echo_answer(messages: list[dict[str, Any]], max_tokens: int | None = None) -> tuple[str, str]:
    """The practice model's answer (content, finish_reason): it repeats your last message.

    >>> echo_answer([{"role": "user", "content": "Hello!"}])
    ('You said: "Hello!" (the practice API echoes; a real model would answer)', 'stop')
    >>> echo_answer([{"role": "user", "content": "Hello!"}], max_tokens=3)
    ('You said:', 'length')
    """
    last = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
    content = f'You said: "{last}" (the practice API echoes; a real model would answer)'
    if max_tokens is not None:
        spans = list(_TOKEN.finditer(content))
        if len(spans) > max_tokens:
            return content[: spans[max_tokens - 1].end()], "length"
    return content, "stop"
