"""Prices per million tokens, editable: a default table plus an override file.

Why editable: prices change more often than judgekit is released, and private or discounted models have prices
no table knows. Put overrides in a JSON or TOML file (``--prices FILE`` or ``JUDGEKIT_PRICES``)::

    # prices.toml
    ["gpt-4.1-mini"]
    input = 0.40     # USD per 1M prompt tokens
    output = 1.60    # USD per 1M completion tokens

A model missing from the table has an unknown cost (``None``), shown as such; ``--max-cost`` then refuses to
start rather than pretend the run is free.

Batch prices (``--batch``): the OpenAI Batch API and Anthropic Message Batches both bill half the list price
(:data:`BATCH_DISCOUNT`); a file can set ``batch_input`` / ``batch_output`` for a model whose batch price differs.
Cloud model ids are looked up by the model's own name (``us.anthropic.claude-sonnet-4-5-20250929-v1:0`` on
Bedrock and ``claude-sonnet-4-5@20250929`` on Vertex find ``claude-sonnet-4-5``).
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from judgekit.errors import ConfigError

#: USD per 1M tokens (input, output): list prices checked in 2025; verify against your provider's page.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.00),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
    "o4-mini": (1.10, 4.40),
    "claude-opus-4-1": (15.00, 75.00),
    "claude-sonnet-4-5": (3.00, 15.00),
    "claude-sonnet-4": (3.00, 15.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-3-5-haiku": (0.80, 4.00),
}


BATCH_DISCOUNT = 0.5
"""Batch price as a share of the list price: "50% off" on both the OpenAI Batch API and Anthropic Message Batches
(their pricing pages)."""


@dataclass(frozen=True)
class Price:
    """USD per 1M input and output tokens (and, when they differ from half of it, in a batch)."""

    input: float
    output: float
    batch_input: float | None = None
    batch_output: float | None = None

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input + output_tokens * self.output) / 1_000_000

    def batch(self) -> Price:
        """The price of a request in a provider batch.

        >>> Price(2.0, 8.0).batch()
        Price(input=1.0, output=4.0, batch_input=None, batch_output=None)
        """
        return Price(
            self.input * BATCH_DISCOUNT if self.batch_input is None else self.batch_input,
            self.output * BATCH_DISCOUNT if self.batch_output is None else self.batch_output,
        )


class PriceTable:
    """Default prices, overridden by a file; lookup by exact model name, then by the longest known prefix
    (``gpt-4.1-mini-2025-04-14`` -> ``gpt-4.1-mini``)."""

    def __init__(self, overrides: dict[str, Price] | None = None) -> None:
        self.prices = {k: Price(*v) for k, v in DEFAULT_PRICES.items()}
        self.prices.update(overrides or {})

    @classmethod
    def load(cls, path: str | Path | None = None) -> PriceTable:
        """The default table plus ``path`` (or ``$JUDGEKIT_PRICES``) if given."""
        path = path or os.environ.get("JUDGEKIT_PRICES") or None
        if path is None:
            return cls()
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
            raw = tomllib.loads(text) if p.suffix == ".toml" else json.loads(text)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read price file {p}: {exc}") from None
        out: dict[str, Price] = {}
        for model, spec in raw.items():
            try:
                batch = [None if spec.get(k) is None else float(spec[k]) for k in ("batch_input", "batch_output")]
                out[model] = Price(float(spec["input"]), float(spec["output"]), *batch)
            except (KeyError, TypeError, ValueError, AttributeError):
                raise ConfigError(
                    f"{p}: price of {model!r} needs numeric 'input' and 'output' (USD per 1M tokens; optional "
                    "'batch_input', 'batch_output')"
                ) from None
        return cls(out)

    def price(self, model: str) -> Price | None:
        for name in dict.fromkeys((model, _model_name(model))):
            if name in self.prices:
                return self.prices[name]
            best = max((k for k in self.prices if name.startswith(k)), key=len, default=None)
            if best is not None:
                return self.prices[best]
        return None

    def cost(self, model: str, input_tokens: int, output_tokens: int) -> float | None:
        """USD for one call, or ``None`` when the model's price is unknown."""
        p = self.price(model)
        return None if p is None else p.cost(input_tokens, output_tokens)


def _model_name(model: str) -> str:
    """The model's own name inside a cloud model id: Bedrock's ``[REGION.]anthropic.NAME-vN:M`` -> ``NAME``.

    >>> _model_name("us.anthropic.claude-sonnet-4-5-20250929-v1:0"), _model_name("gpt-4o")
    ('claude-sonnet-4-5-20250929', 'gpt-4o')
    """
    name = model.rpartition("anthropic.")[2] if "anthropic." in model else model
    head, sep, tail = name.rpartition("-v")
    return head if sep and tail.replace(":", "").isdigit() else name
