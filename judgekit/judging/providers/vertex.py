"""Claude on Google Cloud Vertex AI through the ``anthropic`` SDK's ``AsyncAnthropicVertex`` client.

The request body is the Anthropic Messages body; the client moves the model into the path
(``POST /projects/{project}/locations/{region}/publishers/anthropic/models/{model}:rawPredict``), adds
``anthropic_version`` and sends a Google OAuth access token. Models are Vertex model ids
(``vertex:claude-sonnet-4-5@20250929``).

Settings, as the SDK reads them: ``CLOUD_ML_REGION`` (``us-east5``, ``europe-west1``, ``global`` ...),
``ANTHROPIC_VERTEX_PROJECT_ID`` (else the credentials' project) and ``ANTHROPIC_VERTEX_BASE_URL`` (or
``--base-url``). Credentials: Google's Application Default Credentials through google-auth (``pip install
'judgekit[vertex]'``; ``GOOGLE_APPLICATION_CREDENTIALS`` naming a service-account or ``gcloud auth
application-default login`` file), or a ready access token in ``GOOGLE_OAUTH_ACCESS_TOKEN`` (``gcloud auth
print-access-token``; it expires after an hour). Vertex has no Message Batches API in the SDK (its batch prediction
reads Cloud Storage or BigQuery), so ``--batch`` is refused up front.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any, ClassVar

from judgekit.errors import ConfigError, MissingCredentialsError
from judgekit.judging.providers.anthropic import AnthropicAdapter

TOKEN_ENV = "GOOGLE_OAUTH_ACCESS_TOKEN"


class VertexAdapter(AnthropicAdapter):
    """Claude on Vertex AI: the Anthropic body, routed and authenticated by the SDK's Vertex client."""

    client_class: ClassVar[str] = "AsyncAnthropicVertex"
    default_provider: ClassVar[str] = "vertex"
    env_key: ClassVar[str] = "GOOGLE_APPLICATION_CREDENTIALS"
    env_base_url: ClassVar[str] = "ANTHROPIC_VERTEX_BASE_URL"

    def client_kwargs(self, api_key: str | None) -> dict[str, Any]:
        region = os.environ.get("CLOUD_ML_REGION")
        if not region:
            raise MissingCredentialsError(
                self.provider, "set CLOUD_ML_REGION (the Vertex AI region, e.g. us-east5)", env_var="CLOUD_ML_REGION"
            )
        project = os.environ.get("ANTHROPIC_VERTEX_PROJECT_ID")
        kwargs: dict[str, Any] = {"region": region, "base_url": self.base_url}
        token = api_key or os.environ.get(TOKEN_ENV)
        if token:
            self.key_env = None if api_key else TOKEN_ENV
            kwargs["access_token"] = token
        else:
            if importlib.util.find_spec("google.auth") is None:
                raise ConfigError(
                    "vertex authenticates with Google credentials through google-auth: pip install "
                    f"'judgekit[vertex]' (or set an access token in {TOKEN_ENV})"
                )
            import google.auth
            from google.auth.exceptions import DefaultCredentialsError

            try:
                credentials, found_project = google.auth.default(
                    scopes=["https://www.googleapis.com/auth/cloud-platform"]
                )
            except DefaultCredentialsError:
                raise MissingCredentialsError(
                    self.provider,
                    "set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, run 'gcloud auth "
                    f"application-default login', or set an access token in {TOKEN_ENV}",
                    env_var=self.env_key,
                ) from None
            # one token now, for the whole run: a refused or unreachable credential fails here, in one line, and
            # the concurrent first calls do not each refresh it (the SDK would, racing)
            import google.auth.transport.requests
            from google.auth.exceptions import GoogleAuthError

            try:
                credentials.refresh(google.auth.transport.requests.Request())
            except GoogleAuthError as exc:
                raise ConfigError(f"vertex: Google credentials could not give an access token: {exc}") from None
            kwargs["credentials"] = credentials
            project = project or found_project
        if not project:
            raise MissingCredentialsError(
                self.provider,
                "set ANTHROPIC_VERTEX_PROJECT_ID (the Google Cloud project)",
                env_var="ANTHROPIC_VERTEX_PROJECT_ID",
            )
        kwargs["project_id"] = project
        return kwargs
