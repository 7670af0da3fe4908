"""OpenAI and OpenAI-compatible servers (vLLM, Ollama, LiteLLM, llama.cpp ...) through the ``openai`` SDK.

The SDK's own retries are switched off (``max_retries=0``): the engine retries, so that backoff, ``retry-after``
and the shared rate limiter see every attempt.
"""

from __future__ import annotations

from typing import Any, ClassVar

from judgekit.errors import ConfigError
from judgekit.judging.providers.base import (
    ProviderReply,
    ProviderRequest,
    SdkAdapter,
    TokenLogprob,
    TransientError,
)


class OpenAIAdapter(SdkAdapter):
    """Chat Completions with ``response_format={"type": "json_schema", ...}`` and optional logprobs."""

    sdk_name: ClassVar[str] = "openai"
    client_class: ClassVar[str] = "AsyncOpenAI"
    default_provider: ClassVar[str] = "openai"
    env_key: ClassVar[str] = "OPENAI_API_KEY"
    env_base_url: ClassVar[str] = "OPENAI_BASE_URL"

    def _api_key(self, key: str | None) -> str:
        if self.provider == "openai-compatible":
            if not self.base_url:
                raise ConfigError("openai-compatible needs a server: pass --base-url or set OPENAI_BASE_URL")
            return key or "not-needed"  # local servers (vLLM, Ollama) accept any key
        return super()._api_key(key)

    chat_path: ClassVar[str] = "/chat/completions"
    """Where the SDK client posts a request (relative to its base URL)."""
    batch_url: ClassVar[str] = "/v1/chat/completions"
    """The ``url`` of a request in a Batch API input file (and the batch's ``endpoint``)."""

    def _max_tokens_param(self) -> str:
        """OpenAI's own API takes ``max_completion_tokens`` (required by its reasoning models); other servers know
        only ``max_tokens``."""
        return "max_completion_tokens" if self.provider == "openai" else "max_tokens"

    def body(self, request: ProviderRequest) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": list(request.messages),
            self._max_tokens_param(): request.max_tokens,
        }
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        if request.seed is not None:
            kwargs["seed"] = request.seed
        if request.schema is not None and self.structured:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": request.schema_name, "schema": request.schema, "strict": True},
            }
        if request.top_logprobs:
            kwargs["logprobs"] = True
            kwargs["top_logprobs"] = request.top_logprobs
        kwargs.update(request.extra)
        return kwargs

    def read_reply(self, data: Any) -> ProviderReply:
        return read_reply(data)

    async def complete(self, request: ProviderRequest) -> ProviderReply:
        return read_reply(await self._post(self.chat_path, self.body(request)))


def read_reply(data: Any) -> ProviderReply:
    """A reply from the Chat Completions JSON (a dict, as the server sent it)."""
    if not isinstance(data, dict) or not data.get("choices"):
        raise TransientError("bad_response", "response without choices")
    choice = data["choices"][0]
    msg = choice.get("message") or {}
    lps: list[TokenLogprob] = []
    for t in (choice.get("logprobs") or {}).get("content") or []:
        top = tuple((a["token"], float(a["logprob"])) for a in (t.get("top_logprobs") or []))
        lps.append(TokenLogprob(t["token"], float(t["logprob"]), top))
    usage = data.get("usage") or {}
    return ProviderReply(
        text=msg.get("content") or "",
        refusal=msg.get("refusal"),
        finish_reason=choice.get("finish_reason"),
        input_tokens=int(usage.get("prompt_tokens") or 0),
        output_tokens=int(usage.get("completion_tokens") or 0),
        logprobs=tuple(lps),
    )
