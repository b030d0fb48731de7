"""Cache repeated API calls: the same request twice costs once.

``functools.lru_cache`` cannot do it — a request's ``messages`` is a list of dicts, which is not
hashable — so the cache key is a hash of the request's canonical JSON::

    >>> cache = ResponseCache()
    >>> calls = []
    >>> def create(**request):
    ...     calls.append(request)
    ...     return f"answer #{len(calls)}"
    >>> cache.call(create, model="m", messages=[{"role": "user", "content": "hi"}])
    'answer #1'
    >>> cache.call(create, model="m", messages=[{"role": "user", "content": "hi"}])   # no second call
    'answer #1'
    >>> cache.hits, cache.misses
    (1, 1)

Only cache what is meant to repeat: with ``temperature`` above 0 the model *could* answer
differently each time, and caching freezes the first answer (often what you want for a lookup,
never for "give me another idea").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def request_key(fn: Callable[..., Any], request: dict[str, Any]) -> str:
    """A stable key for one request: which function, which arguments (order of keys ignored).

    >>> def f(**kw): ...
    >>> request_key(f, {"a": 1, "b": [1, 2]}) == request_key(f, {"b": [1, 2], "a": 1})
    True
    """
    name = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{name}\n{canonical}".encode()).hexdigest()


class ResponseCache:
    """An in-memory cache of responses, keyed by :func:`request_key`, with hit/miss counts.

    ``max_entries`` bounds memory: the oldest entry goes first when it is full.
    """

    def __init__(self, max_entries: int = 1_000) -> None:
        self.max_entries = max_entries
        self._store: dict[str, Any] = {}
        self.hits = 0
        self.misses = 0

    def call(self, fn: Callable[..., T], **request: Any) -> T:
        """``fn(**request)``, or the stored answer to the very same request."""
        key = request_key(fn, request)
        if key in self._store:
            self.hits += 1
            return self._store[key]  # type: ignore[no-any-return]
        self.misses += 1
        response = fn(**request)
        if len(self._store) >= self.max_entries:
            self._store.pop(next(iter(self._store)))
        self._store[key] = response
        return response

    def __len__(self) -> int:
        return len(self._store)

    def clear(self) -> None:
        """Forget every stored response (the counts stay)."""
        self._store.clear()

    def __repr__(self) -> str:
        return f"ResponseCache({len(self)} stored, {self.hits} hits, {self.misses} misses)"
