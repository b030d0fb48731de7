"""What a call cost: token usage read from any response, times a price table kept in one place.

    >>> usage = Usage(input_tokens=1_000, output_tokens=500)
    >>> format_cost(estimate_cost("gpt-6.1-terra", usage))
    '$0.0035'

**Caveat.** Prices change, differ by region, batch and cache discounts, and long-context tiers. The
table below is the providers' published list price per million tokens **as of** :data:`PRICES_AS_OF`;
check the pricing pages before you rely on a figure, and treat every estimate as an estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

PRICES_AS_OF = "2026-12-02"
"""When the table was last checked for the course's default models (each price also carries its own date)."""

PRICING_PAGES = {
    "openai": "https://openai.com/api/pricing/",
    "anthropic": "https://www.anthropic.com/pricing#api",
}


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens, the day they were read and where."""

    input: float
    output: float
    as_of: str = "2025-08"
    source: str = "the providers' pricing pages"


# Standard (not batch, flex or fast) list prices for short prompts. Sources read 2026-12-02 with the
# project's search tool, each quoting the provider's own pricing or model page:
_TERRA = "OpenAI GPT-6.1 Terra model page, as quoted by docs.litellm.ai/blog/gpt-6-1-terra"
_LUNA = "OpenAI gpt-6-luna model page, as quoted in netbirdio/netbird#8664 and codersera.com (GPT-4o shutdown)"
_SOL = "OpenAI pricing, as quoted by docs.litellm.ai/blog/gpt-6-1-terra"
_SONNET55 = "Anthropic pricing, as quoted by uttamdeb/agent-telemetry v1.6.4 and apidog.com (Sonnet 5.5 API)"
_HAIKU55 = "Anthropic pricing (prompts up to 100k tokens), as quoted by kurofune/claudit v1.9.2, TheKrush/PromptFuel"
_SONNET46 = "Anthropic pricing, as quoted by getapipulse.com (Sonnet 4 vs 4.6)"

PRICES: dict[str, Price] = {
    # OpenAI: the course's defaults
    "gpt-6.1-terra": Price(1.00, 5.00, "2026-12-02", _TERRA),
    "gpt-6-luna": Price(0.10, 0.50, "2026-12-02", _LUNA),
    # OpenAI: other current models a learner may set
    "gpt-6.1-sol": Price(2.00, 10.00, "2026-12-02", _SOL),
    # OpenAI: the course text's models and their generation (shutdown 2026-12-11 / 2027-01-14)
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-5": Price(1.25, 10.00),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5-nano": Price(0.05, 0.40),
    # Anthropic: the course's defaults (Haiku 5.5 costs $0.50 / $2.50 for prompts over 100k tokens)
    "claude-sonnet-5-5": Price(2.00, 10.00, "2026-12-02", _SONNET55),
    "claude-haiku-5-5": Price(0.10, 0.50, "2026-12-02", _HAIKU55),
    # Anthropic: other models a learner may set, and the course text's (retired 2026-06-15)
    "claude-sonnet-5": Price(2.00, 10.00, "2026-12-02", "platform.claude.com/docs/en/models/sonnet-5/overview"),
    "claude-sonnet-4-6": Price(3.00, 15.00, "2026-12-02", _SONNET46),
    "claude-sonnet-4": Price(3.00, 15.00),
    "claude-haiku-4-5": Price(1.00, 5.00),
    "claude-sonnet-4-5": Price(3.00, 15.00),
}
"""List prices per million tokens, keyed by model family (dated snapshots match by prefix)."""


@dataclass(frozen=True)
class Usage:
    """Tokens in and out of one call, whatever the provider called them."""

    input_tokens: int
    output_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def usage_of(response: Any) -> Usage:
    """Read token usage from an OpenAI (chat or Responses), Anthropic or Hugging Face response.

    >>> from types import SimpleNamespace as NS
    >>> usage_of(NS(usage=NS(prompt_tokens=12, completion_tokens=30)))      # chat completions
    Usage(input_tokens=12, output_tokens=30)
    >>> usage_of(NS(usage=NS(input_tokens=12, output_tokens=30)))           # Anthropic, Responses API
    Usage(input_tokens=12, output_tokens=30)
    >>> usage_of({"usage": {"prompt_tokens": 1, "completion_tokens": 2}})    # raw JSON (requests)
    Usage(input_tokens=1, output_tokens=2)
    """
    usage = response.get("usage") if isinstance(response, dict) else getattr(response, "usage", None)
    if usage is None:
        raise ValueError("this response carries no usage")

    def read(*names: str) -> int:
        for name in names:
            value = usage.get(name) if isinstance(usage, dict) else getattr(usage, name, None)
            if isinstance(value, int):
                return value
        return 0

    # Anthropic counts prompt-cache reads and writes apart from input_tokens; adding them at the
    # full input price over-estimates (cache reads are billed at a tenth): a safe-side estimate
    cached = read("cache_read_input_tokens") + read("cache_creation_input_tokens")
    return Usage(read("input_tokens", "prompt_tokens") + cached, read("output_tokens", "completion_tokens"))


def price_for(model: str) -> Price | None:
    """The table's price for a model name; dated snapshots match their family (longest prefix wins).

    >>> price_for("claude-sonnet-4-20250514").input
    3.0
    >>> price_for("gpt-4o-mini-2024-07-18").output
    0.6
    >>> price_for("my-fine-tune") is None
    True
    """
    matches = [family for family in PRICES if model == family or model.startswith(family + "-")]
    return PRICES[max(matches, key=len)] if matches else None


def estimate_cost(model: str, usage: Usage) -> float | None:
    """US dollars for one call (``None`` when the model is not in the table).

    >>> estimate_cost("claude-sonnet-4-20250514", Usage(2_000, 1_000))
    0.021
    """
    price = price_for(model)
    if price is None:
        return None
    return round((usage.input_tokens * price.input + usage.output_tokens * price.output) / 1_000_000, 10)


def format_cost(dollars: float | None) -> str:
    """Dollars as people write them: cents from a cent up, two significant digits below (never ``8.25e-05``).

    >>> format_cost(0.0000825), format_cost(0.00213), format_cost(1234.5), format_cost(0), format_cost(None)
    ('$0.000083', '$0.0021', '$1,234.50', '$0.00', 'unknown (model not in the price table)')
    """
    if dollars is None:
        return "unknown (model not in the price table)"
    if dollars == 0 or dollars >= 0.01:
        return f"${dollars:,.2f}"
    exact = Decimal(str(dollars))
    places = 1 - exact.adjusted()  # two significant digits
    return f"${exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):f}"
