"""Log every API call's latency, tokens and estimated cost — the numbers you watch in production.

    >>> from types import SimpleNamespace as NS
    >>> log = CallLog()
    >>> def create(**request):
    ...     return NS(model=request["model"], usage=NS(prompt_tokens=20, completion_tokens=80))
    >>> response = log.track(create, model="gpt-4o", messages=[])
    >>> record = log.records[0]
    >>> record.model, record.usage.total_tokens, record.cost
    ('gpt-4o', 100, 0.00085)

Each call is also written to the ``apicourse.calls`` logger (INFO), so a real application can send
the same lines to its log files or monitoring.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from apicourse.costs import Usage, estimate_cost, format_cost, usage_of

T = TypeVar("T")
logger = logging.getLogger("apicourse.calls")


@dataclass(frozen=True)
class CallRecord:
    """One call: which model, how long, how many tokens, what it cost, or how it failed."""

    model: str
    seconds: float
    usage: Usage | None
    cost: float | None
    error: str | None = None


class CallLog:
    """Wraps calls with :meth:`track`; shows itself as a table in a notebook."""

    def __init__(self) -> None:
        self.records: list[CallRecord] = []

    def track(self, fn: Callable[..., T], **request: Any) -> T:
        """Call ``fn(**request)``, timing it and reading the usage of its response. Errors are logged and re-raised."""
        requested = str(request.get("model", "?"))
        start = time.perf_counter()
        try:
            response = fn(**request)
        except Exception as error:
            seconds = time.perf_counter() - start
            self.records.append(CallRecord(requested, seconds, None, None, type(error).__name__))
            logger.warning("model=%s failed after %.0f ms: %s", requested, seconds * 1000, error)
            raise
        seconds = time.perf_counter() - start
        model = str(getattr(response, "model", None) or requested)
        try:
            usage: Usage | None = usage_of(response)
        except ValueError:
            usage = None
        cost = estimate_cost(model, usage) if usage else None
        self.records.append(CallRecord(model, seconds, usage, cost))
        logger.info(
            "model=%s latency_ms=%.0f input_tokens=%s output_tokens=%s cost=%s",
            model,
            seconds * 1000,
            usage and usage.input_tokens,
            usage and usage.output_tokens,
            format_cost(cost),
        )
        return response

    @property
    def total_cost(self) -> float:
        """The sum of the known costs, in US dollars."""
        return sum(r.cost for r in self.records if r.cost is not None)

    def _repr_html_(self) -> str:
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(cell))}</td>"
                for cell in (
                    i,
                    r.model,
                    f"{r.seconds * 1000:.0f}",
                    r.usage.input_tokens if r.usage else "–",
                    r.usage.output_tokens if r.usage else "–",
                    r.error or format_cost(r.cost),
                )
            )
            + "</tr>"
            for i, r in enumerate(self.records, 1)
        )
        head = "".join(
            f"<th>{h}</th>" for h in ("#", "model", "latency ms", "in tokens", "out tokens", "cost")
        )
        return f"<table><tr>{head}</tr>{rows}</table><p>total: {format_cost(self.total_cost)}</p>"
