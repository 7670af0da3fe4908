"""What a run asks the provider: one request template per run, built from the judge config, the rubric and the
provider's declared capabilities.

Why one place: the interactive engine, the cache keys and (later) provider batch files must send byte-identical
requests for the same item, or a cached reply would not be found and a batch result could not be matched. Every
output-affecting parameter is read from :attr:`JudgeConfig.parameters` here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from judgekit.errors import ConfigError
from judgekit.judging.cache import CacheKeyer
from judgekit.judging.providers.base import ProviderRequest
from judgekit.judging.providers.registry import Capabilities
from judgekit.judging.schema import reply_schema
from judgekit.models import JudgeConfig, Rubric

DEFAULT_MAX_TOKENS = 300
"""A verdict is a label and one or two sentences; a tight bound keeps a runaway reply cheap."""


@dataclass(frozen=True)
class RequestTemplate:
    """The request of every item of a run, but for its messages."""

    template: ProviderRequest
    """A request with no messages: :meth:`request` fills them in."""
    method: str
    """Confidence method (``none``, ``logprobs``, ``verbalized``, ``sampling``)."""
    samples: int
    """Calls per item (``sampling`` confidence), each its own cache entry."""
    structured: bool
    """Native structured output is used (else the text fallback)."""
    keyer: CacheKeyer = field(compare=False)

    @property
    def verbalized(self) -> bool:
        return self.method == "verbalized"

    @classmethod
    def for_run(
        cls, config: JudgeConfig, rubric: Rubric, capabilities: Capabilities, base_url: str | None
    ) -> RequestTemplate:
        """The template of ``config``'s requests (``base_url``: the server the adapter talks to, part of the key)."""
        method = config.confidence
        params = dict(config.parameters)
        structured = bool(params.pop("structured", True)) and capabilities.schema
        max_tokens = int(params.pop("max_tokens", DEFAULT_MAX_TOKENS))  # type: ignore[arg-type]
        temp = params.pop("temperature", 1.0 if method == "sampling" else 0.0)
        seed = params.pop("seed", None)
        if seed is not None and not capabilities.seed:
            raise ConfigError(f"provider {config.provider!r} takes no sampling seed: drop --model-seed")
        top_logprobs = int(params.pop("top_logprobs", 10)) if method == "logprobs" else 0  # type: ignore[arg-type]
        schema = (
            reply_schema(rubric, verbalized=method == "verbalized", label_first=method == "logprobs")
            if structured
            else None
        )
        template = ProviderRequest(
            messages=(),
            max_tokens=max_tokens,
            temperature=None if temp is None else float(temp),  # type: ignore[arg-type]
            schema=schema,
            top_logprobs=top_logprobs,
            seed=None if seed is None else int(seed),  # type: ignore[arg-type]
            extra=params,
        )
        keyer = CacheKeyer(config.provider, base_url, config.model, template)
        samples = config.samples if method == "sampling" else 1
        return cls(template, method, samples, structured, keyer)

    def request(self, messages: tuple[dict[str, str], ...]) -> ProviderRequest:
        """The request with these messages."""
        return replace(self.template, messages=messages)

    def key(self, messages: tuple[dict[str, str], ...] | list[dict[str, str]], sample: int = 0) -> str:
        """The cache key of the request with these messages and sample index."""
        return self.keyer.key(messages, sample)
