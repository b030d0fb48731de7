"""Run many API calls concurrently — but never more than ``limit`` at once — with a progress bar.

Fire 100 requests at once and you get 429s; send them one by one and you wait 100 round trips.
An :class:`asyncio.Semaphore` is the middle way: at most ``limit`` requests in flight::

    >>> import asyncio
    >>> async def double(x):
    ...     await asyncio.sleep(0.001)
    ...     return 2 * x
    >>> batch = asyncio.run(gather_limited([double(x) for x in range(5)], limit=2, progress=False))
    >>> batch.results, batch.max_in_flight <= 2
    ([0, 2, 4, 6, 8], True)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass
class Batch(Generic[T]):
    """The results in the order of the inputs, plus what the run looked like."""

    results: list[T | BaseException] = field(default_factory=list)
    seconds: float = 0.0
    max_in_flight: int = 0

    @property
    def errors(self) -> list[BaseException]:
        """The calls that failed (only with ``return_exceptions=True``)."""
        return [r for r in self.results if isinstance(r, BaseException)]


async def gather_limited(
    calls: Iterable[Awaitable[T]],
    *,
    limit: int = 4,
    desc: str = "requests",
    progress: bool = True,
    return_exceptions: bool = False,
) -> Batch[T]:
    """Await every call with at most ``limit`` running at once; results keep the input order.

    ``calls`` are awaitables not yet started (e.g. ``client.messages.create(...)`` without
    ``await``). With ``return_exceptions=True`` a failed call leaves its exception in ``results``
    instead of cancelling the rest.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    semaphore = asyncio.Semaphore(limit)
    batch: Batch[T] = Batch()
    in_flight = 0

    async def run(call: Awaitable[T]) -> T:
        nonlocal in_flight
        async with semaphore:
            in_flight += 1
            batch.max_in_flight = max(batch.max_in_flight, in_flight)
            try:
                return await call
            finally:
                in_flight -= 1

    wrapped = [run(call) for call in calls]
    start = time.perf_counter()
    if progress:
        from tqdm.auto import tqdm

        results: list[Any] = await tqdm.gather(*wrapped, desc=desc, return_exceptions=return_exceptions)
    else:
        results = await asyncio.gather(*wrapped, return_exceptions=return_exceptions)
    batch.results = list(results)
    batch.seconds = time.perf_counter() - start
    return batch
