"""Model providers, registered by name (:mod:`judgekit.judging.providers.registry`): ``openai``,
``openai-compatible``, ``anthropic``, and whatever else is registered.

A model is named ``provider:model`` (``openai:gpt-4.1-mini``, ``anthropic:claude-sonnet-4-5``,
``openai-compatible:llama3.1``). SDKs are imported only when an adapter is built, so ``import judgekit`` stays
light and a missing SDK produces an error saying what to install.
"""

from __future__ import annotations

from typing import Any

from judgekit.errors import ConfigError
from judgekit.judging.providers.base import (
    ModelAdapter,
    PermanentError,
    ProviderReply,
    ProviderRequest,
    TokenLogprob,
    TransientError,
)
from judgekit.judging.providers.registry import (
    Capabilities,
    ProviderSpec,
    find_provider,
    get_provider,
    provider_names,
    register_provider,
    unregister_provider,
)


def split_model_spec(spec: str) -> tuple[str, str]:
    """``"openai:gpt-4.1-mini"`` -> ``("openai", "gpt-4.1-mini")``; the provider part is required and registered."""
    provider, sep, model = spec.partition(":")
    if not sep or not model or find_provider(provider) is None:
        raise ConfigError(
            f"model {spec!r} must be PROVIDER:MODEL with PROVIDER one of "
            f"{', '.join(provider_names())} (e.g. openai:gpt-4.1-mini)"
        )
    return provider, model


def make_adapter(provider: str, model: str, **kw: Any) -> ModelAdapter:
    """Build the adapter for ``provider`` (raises :class:`~judgekit.errors.MissingKeyError` naming the env var)."""
    return get_provider(provider).make(model, **kw)


__all__ = [
    "Capabilities",
    "ModelAdapter",
    "PermanentError",
    "ProviderReply",
    "ProviderRequest",
    "ProviderSpec",
    "TokenLogprob",
    "TransientError",
    "find_provider",
    "get_provider",
    "make_adapter",
    "provider_names",
    "register_provider",
    "split_model_spec",
    "unregister_provider",
]
