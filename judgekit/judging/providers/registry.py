"""The provider registry: one registration per provider is the whole recipe.

A provider is a name (the part before ``:`` in ``--model openai:gpt-4.1-mini``), an adapter (a
:class:`~judgekit.judging.providers.base.ModelAdapter` class or factory) and its declared
:class:`Capabilities`. Everything that needs to know about providers reads this registry: the CLI's
``PROVIDER:MODEL`` parsing, the engine's capability checks (logprobs, structured output, seed) before any call,
and the worker processes (which modules their fork server imports up front). Nothing else has a table of
providers, so registering one is all it takes::

    from judgekit.judging.providers import Capabilities, register_provider

    register_provider("my-server", MyAdapter, capabilities=Capabilities(logprobs=True))

Why declared capabilities: asking a model for log-probabilities it cannot return must fail before the first paid
call, not after 500 of them (pattern: simonw/llm's ``supports_schema`` attributes).

Packages can register providers without being imported by the user: an entry point in the group
``judgekit.providers`` naming a :class:`ProviderSpec` or a function that calls :func:`register_provider`; entry
points are loaded the first time a name is not found among the registered ones.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from judgekit.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from judgekit.judging.providers.base import ModelAdapter

ENTRY_POINT_GROUP = "judgekit.providers"


@dataclass(frozen=True)
class Capabilities:
    """What a provider's API can do, declared up front and checked before any call."""

    schema: bool = True
    """Native structured output (JSON schema / forced tool); without it the text fallback is used."""
    logprobs: bool = False
    """Token log-probabilities (needed for ``--confidence logprobs``)."""
    seed: bool = False
    """A provider-side sampling seed (``--model-seed``)."""
    temperature: bool = True
    """A sampling temperature (Anthropic's current Messages API chooses its own)."""
    batch: str | None = None
    """The provider's batch API for ``--batch`` (half price, results within 24 h): ``"openai"`` (the Files and
    Batch APIs), ``"anthropic"`` (Message Batches) or ``None`` (none: ``--batch`` is refused before anything)."""


AdapterFactory = Callable[..., "ModelAdapter"]
"""Called as ``factory(model, provider=NAME, base_url=..., api_key=..., timeout=..., max_connections=...)``;
``max_connections`` is the run's concurrency in this process (for sizing a connection pool)."""


@dataclass(frozen=True)
class ProviderSpec:
    """One registered provider. Picklable (worker processes receive it), so ``adapter`` is a class or function
    importable by name, or the string ``"module:attribute"`` (imported at the first use, so registering a
    provider never imports its SDK)."""

    name: str
    adapter: AdapterFactory | str
    capabilities: Capabilities = field(default_factory=Capabilities)
    preload: tuple[str, ...] = ()
    """Modules the worker processes' fork server imports once (the SDK), so each worker starts in milliseconds."""
    description: str = ""

    def factory(self) -> AdapterFactory:
        """The adapter class or factory (importing it if it was named by string)."""
        if not isinstance(self.adapter, str):
            return self.adapter
        module, _, attr = self.adapter.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"provider {self.name!r}: cannot import its adapter {self.adapter!r}: {exc}") from None

    def make(self, model: str, **kw: Any) -> ModelAdapter:
        """An adapter for ``model`` (raises :class:`~judgekit.errors.MissingKeyError` naming the env var)."""
        return self.factory()(model, provider=self.name, **kw)


_REGISTRY: dict[str, ProviderSpec] = {}
_entry_points_loaded = False


def register_provider(
    name: str,
    adapter: AdapterFactory | str,
    *,
    capabilities: Capabilities | None = None,
    preload: tuple[str, ...] | list[str] = (),
    description: str = "",
    replace: bool = False,
) -> ProviderSpec:
    """Register a provider under ``name`` and return its spec. Registering the same spec again is a no-op;
    another spec under a taken name needs ``replace=True``."""
    if not name or ":" in name or name != name.strip():
        raise ConfigError(f"provider name {name!r} must be non-empty, without ':' or surrounding spaces")
    spec = ProviderSpec(name, adapter, capabilities or Capabilities(), tuple(preload), description)
    old = _REGISTRY.get(name)
    if old is not None and old != spec and not replace:
        raise ConfigError(f"provider {name!r} is already registered; pass replace=True to replace it")
    _REGISTRY[name] = spec
    return spec


def unregister_provider(name: str) -> None:
    """Remove a registration (tests, plugins that replace a provider)."""
    _REGISTRY.pop(name, None)


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not break judgekit
            raise ConfigError(f"provider plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from None
        if isinstance(obj, ProviderSpec):
            _REGISTRY.setdefault(obj.name, obj)
        elif callable(obj):
            obj()


def get_provider(name: str) -> ProviderSpec:
    """The registration of ``name``; an unknown name is a :class:`~judgekit.errors.ConfigError` listing the known."""
    spec = _REGISTRY.get(name)
    if spec is None:
        _load_entry_points()
        spec = _REGISTRY.get(name)
    if spec is None:
        raise ConfigError(f"unknown provider {name!r}; known: {', '.join(provider_names())}")
    return spec


def find_provider(name: str) -> ProviderSpec | None:
    """The registration of ``name``, or ``None``."""
    try:
        return get_provider(name)
    except ConfigError:
        return None


def provider_names() -> list[str]:
    """Registered provider names, in registration order."""
    return list(_REGISTRY)


for _name, _about in (
    ("openai", "OpenAI Chat Completions (OPENAI_API_KEY, OPENAI_BASE_URL)"),
    ("openai-compatible", "vLLM, Ollama, llama.cpp, LM Studio, LiteLLM ... (--base-url or OPENAI_BASE_URL)"),
):
    register_provider(
        _name,
        "judgekit.judging.providers.openai:OpenAIAdapter",
        capabilities=Capabilities(schema=True, logprobs=True, seed=True, batch="openai"),
        preload=("openai",),
        description=_about,
    )
register_provider(
    "anthropic",
    "judgekit.judging.providers.anthropic:AnthropicAdapter",
    capabilities=Capabilities(schema=True, logprobs=False, seed=False, temperature=False, batch="anthropic"),
    preload=("anthropic",),
    description="Anthropic Messages (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL)",
)
# The clouds, through the same two SDKs (one registration each; see each adapter's module for its settings).
register_provider(
    "azure",
    "judgekit.judging.providers.azure:AzureOpenAIAdapter",
    capabilities=Capabilities(schema=True, logprobs=True, seed=True, batch="openai"),
    preload=("openai",),
    description="Azure OpenAI deployments (AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY, OPENAI_API_VERSION)",
)
register_provider(
    "bedrock",
    "judgekit.judging.providers.bedrock:BedrockAdapter",
    capabilities=Capabilities(schema=True, logprobs=False, seed=False, temperature=False),
    preload=("anthropic",),
    description="Claude on Amazon Bedrock (AWS credentials + AWS_REGION, or AWS_BEARER_TOKEN_BEDROCK)",
)
register_provider(
    "vertex",
    "judgekit.judging.providers.vertex:VertexAdapter",
    capabilities=Capabilities(schema=True, logprobs=False, seed=False, temperature=False),
    preload=("anthropic",),
    description="Claude on Google Vertex AI (CLOUD_ML_REGION, ANTHROPIC_VERTEX_PROJECT_ID, Google credentials)",
)
register_provider(
    "gemini",
    "judgekit.judging.providers.gemini:GeminiAdapter",
    capabilities=Capabilities(schema=True, logprobs=False, seed=False),
    preload=("openai",),
    description="Gemini through its OpenAI-compatible endpoint (GEMINI_API_KEY)",
)
