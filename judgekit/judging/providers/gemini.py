"""Gemini through Google's OpenAI-compatible endpoint, with the ``openai`` SDK.

Google serves Gemini models under the Chat Completions API at :data:`GEMINI_OPENAI_URL` with a Gemini API key
(``GEMINI_API_KEY``; ``GEMINI_BASE_URL`` or ``--base-url`` points elsewhere). Structured output is the same
``response_format={"type": "json_schema"}``; token log-probabilities and a sampling seed are not declared (the
compatibility layer does not document them), so ``--confidence logprobs`` and ``--model-seed`` are refused before
any call. The endpoint offers no OpenAI Batch API (Gemini's own batch mode is a different API), so ``--batch`` is
refused up front.
"""

from __future__ import annotations

from typing import ClassVar

from judgekit.judging.providers.openai import OpenAIAdapter

GEMINI_OPENAI_URL = "https://generativelanguage.googleapis.com/v1beta/openai/"


class GeminiAdapter(OpenAIAdapter):
    """A Gemini model (``gemini:gemini-2.5-flash``) behind the OpenAI-compatible endpoint."""

    default_provider: ClassVar[str] = "gemini"
    env_key: ClassVar[str] = "GEMINI_API_KEY"
    env_base_url: ClassVar[str] = "GEMINI_BASE_URL"
    default_base_url: ClassVar[str | None] = GEMINI_OPENAI_URL
