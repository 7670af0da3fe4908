"""Claude on Amazon Bedrock through the ``anthropic`` SDK's ``AsyncAnthropicBedrock`` client.

The request body is the Anthropic Messages body (so the forced-tool structured output is the same); the client
moves the model into the path (``POST /model/{model}/invoke``), adds ``anthropic_version`` and signs the request
with AWS Signature Version 4. Models are Bedrock model or inference-profile ids
(``bedrock:us.anthropic.claude-sonnet-4-5-20250929-v1:0``).

Credentials, as the SDK and boto3 read them: a Bedrock API key in ``AWS_BEARER_TOKEN_BEDROCK``, or AWS credentials
(``AWS_ACCESS_KEY_ID`` + ``AWS_SECRET_ACCESS_KEY`` [+ ``AWS_SESSION_TOKEN``], ``AWS_PROFILE``, the shared config
files, an instance role) and a region (``AWS_REGION`` / ``AWS_DEFAULT_REGION`` or the profile's). Signing needs
boto3: ``pip install 'judgekit[bedrock]'``. ``ANTHROPIC_BEDROCK_BASE_URL`` (or ``--base-url``) points elsewhere
(a VPC endpoint, a test server). Bedrock has no Message Batches API in the SDK (its batch inference reads S3), so
``--batch`` is refused up front.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any, ClassVar

from judgekit.errors import ConfigError, MissingCredentialsError
from judgekit.judging.providers.anthropic import AnthropicAdapter

_CREDENTIALS = (
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or a Bedrock API key in AWS_BEARER_TOKEN_BEDROCK"
)


class BedrockAdapter(AnthropicAdapter):
    """Claude on Bedrock: the Anthropic body, signed by the SDK's Bedrock client."""

    client_class: ClassVar[str] = "AsyncAnthropicBedrock"
    default_provider: ClassVar[str] = "bedrock"
    env_key: ClassVar[str] = "AWS_ACCESS_KEY_ID"
    env_base_url: ClassVar[str] = "ANTHROPIC_BEDROCK_BASE_URL"

    def client_kwargs(self, api_key: str | None) -> dict[str, Any]:
        token = api_key or os.environ.get("AWS_BEARER_TOKEN_BEDROCK")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        kwargs: dict[str, Any] = {"base_url": self.base_url}
        if token:
            self.key_env = None if api_key else "AWS_BEARER_TOKEN_BEDROCK"
            kwargs["api_key"] = token
        else:
            if importlib.util.find_spec("boto3") is None:
                raise ConfigError(
                    "bedrock signs requests with AWS credentials through boto3: pip install 'judgekit[bedrock]' "
                    "(or set a Bedrock API key in AWS_BEARER_TOKEN_BEDROCK)"
                )
            import boto3

            session = boto3.Session()
            if session.get_credentials() is None:
                raise MissingCredentialsError(self.provider, _CREDENTIALS, env_var=self.env_key)
            region = region or session.region_name
            self.key_env = "AWS_ACCESS_KEY_ID / AWS_PROFILE"
        if not region:
            raise MissingCredentialsError(
                self.provider, "set AWS_REGION (the Bedrock region, e.g. us-east-1)", env_var="AWS_REGION"
            )
        kwargs["aws_region"] = region
        return kwargs
