"""Anthropic Messages API through the ``anthropic`` SDK; structured output by a forced tool call.

Why a tool: ``tool_choice={"type": "tool", "name": ...}`` makes the model answer with an object validated
against the tool's ``input_schema``, the closest Anthropic equivalent of OpenAI's ``json_schema`` format.
The API returns no token log-probabilities, so ``logprobs`` confidence is refused up front.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from judgekit.judging.providers.base import (
    ProviderReply,
    ProviderRequest,
    SdkAdapter,
    TransientError,
)


class AnthropicAdapter(SdkAdapter):
    """Claude models; the system message goes in ``system``, the verdict comes back as tool input."""

    sdk_name: ClassVar[str] = "anthropic"
    client_class: ClassVar[str] = "AsyncAnthropic"
    default_provider: ClassVar[str] = "anthropic"
    env_key: ClassVar[str] = "ANTHROPIC_API_KEY"
    env_base_url: ClassVar[str] = "ANTHROPIC_BASE_URL"

    def body(self, request: ProviderRequest) -> dict[str, Any]:
        system = "\n\n".join(m["content"] for m in request.messages if m["role"] == "system")
        messages = [dict(m) for m in request.messages if m["role"] != "system"]
        kwargs: dict[str, Any] = {"model": self.model, "max_tokens": request.max_tokens, "messages": messages}
        if system:
            kwargs["system"] = system
        # This SDK's ``messages.create`` has no ``temperature``: current Claude models choose their own
        # sampling, so it is not sent (sampling confidence relies on the default, which is not greedy).
        if request.schema is not None and self.structured:
            kwargs["tools"] = [
                {"name": request.schema_name, "description": "Record the verdict.", "input_schema": request.schema}
            ]
            kwargs["tool_choice"] = {"type": "tool", "name": request.schema_name}
        kwargs.update(request.extra)
        return kwargs

    def read_reply(self, data: Any) -> ProviderReply:
        return read_reply(data)

    async def complete(self, request: ProviderRequest) -> ProviderReply:
        return read_reply(await self._post("/v1/messages", self.body(request)))


def read_reply(data: Any) -> ProviderReply:
    """A reply from the Messages API JSON (a dict, as the server sent it): the first ``tool_use`` block's input is
    the structured verdict, ``text`` blocks are the text (or the refusal)."""
    if not isinstance(data, dict) or not isinstance(data.get("content"), list):
        raise TransientError("bad_response", "response without content")
    texts: list[str] = []
    structured: dict[str, Any] | None = None
    for block in data["content"]:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "tool_use" and structured is None:
            structured = block.get("input") if isinstance(block.get("input"), dict) else None
        elif block.get("type") == "text":
            texts.append(str(block.get("text") or ""))
    text = json.dumps(structured, ensure_ascii=False) if structured is not None else "".join(texts)
    stop = data.get("stop_reason")
    refusal = ("".join(texts) or "refused") if stop == "refusal" else None
    usage = data.get("usage") or {}
    return ProviderReply(
        text=text,
        structured=structured,
        refusal=refusal,
        finish_reason=stop,
        input_tokens=int(usage.get("input_tokens") or 0),
        output_tokens=int(usage.get("output_tokens") or 0),
    )
