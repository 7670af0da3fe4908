"""Azure OpenAI through the ``openai`` SDK's ``AsyncAzureOpenAI`` client.

On Azure the model is a *deployment* the team created (``azure:my-gpt-4o``): the client routes each request to
``{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=...`` from the ``model`` in the body, and
authenticates with the ``api-key`` header (or a Microsoft Entra ID token). The request body is the OpenAI one, so
structured output, logprobs and the Batch API work as with OpenAI (a batch needs a *global batch* deployment; the
requests of a batch file name the deployment as their model and ``/chat/completions`` as their url).

Settings, as the SDK reads them: ``AZURE_OPENAI_ENDPOINT`` (or ``--base-url``), ``AZURE_OPENAI_API_KEY`` or
``AZURE_OPENAI_AD_TOKEN``, and ``OPENAI_API_VERSION`` (default :data:`DEFAULT_API_VERSION`).
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from judgekit.errors import MissingCredentialsError
from judgekit.judging.providers.openai import OpenAIAdapter

DEFAULT_API_VERSION = "2024-10-21"
"""The generally available Azure OpenAI data-plane API version with structured outputs and the Batch API, used when
``OPENAI_API_VERSION`` is not set."""


class AzureOpenAIAdapter(OpenAIAdapter):
    """A deployment on Azure OpenAI; the body is OpenAI's Chat Completions body with the deployment as model."""

    client_class: ClassVar[str] = "AsyncAzureOpenAI"
    default_provider: ClassVar[str] = "azure"
    env_key: ClassVar[str] = "AZURE_OPENAI_API_KEY"
    env_base_url: ClassVar[str] = "AZURE_OPENAI_ENDPOINT"
    batch_url: ClassVar[str] = "/chat/completions"

    def _max_tokens_param(self) -> str:
        return "max_completion_tokens"  # every current Azure API version takes it; reasoning models require it

    def client_kwargs(self, api_key: str | None) -> dict[str, Any]:
        endpoint = self.base_url
        key = api_key or os.environ.get(self.env_key)
        token = None if key else os.environ.get("AZURE_OPENAI_AD_TOKEN")
        if not endpoint:
            raise MissingCredentialsError(
                self.provider,
                "set AZURE_OPENAI_ENDPOINT (https://RESOURCE.openai.azure.com) or pass --base-url",
                env_var="AZURE_OPENAI_ENDPOINT",
            )
        if not key and not token:
            raise MissingCredentialsError(
                self.provider,
                "set AZURE_OPENAI_API_KEY (the resource's key) or AZURE_OPENAI_AD_TOKEN (a Microsoft Entra ID token)",
                env_var=self.env_key,
            )
        if token:
            self.key_env = "AZURE_OPENAI_AD_TOKEN"
        version = os.environ.get("OPENAI_API_VERSION") or DEFAULT_API_VERSION
        creds = {"api_key": key} if key else {"azure_ad_token": token}
        return {**creds, "azure_endpoint": endpoint, "api_version": version}
