"""The contract of a provider batch API, as the runner (:mod:`judgekit.judging.batch.runner`) uses it.

A batch API takes many requests at once, runs them on the provider's fleet within 24 hours at half price, and
returns one result per request, matched by the request's ``custom_id`` (results come in any order). judgekit's
custom id is the request's cache key (64 hex digits: within Anthropic's ``^[a-zA-Z0-9_-]{1,64}$`` and unique per
distinct request), so a result lands in the response cache under the key the interactive path would look up, and
identical requests of several items are sent once.

Two implementations, chosen by the provider's declared ``Capabilities.batch``: ``openai`` (the Files API for the
JSONL input file, then the Batch API; OpenAI, Azure OpenAI and OpenAI-compatible servers that have it) and
``anthropic`` (Message Batches). Every call goes through the provider's official SDK client, the one the
interactive adapter builds (same key, base URL, headers and error types).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from judgekit.errors import ConfigError, ProviderError
from judgekit.judging.batch.store import BatchRow
from judgekit.judging.providers.base import (
    RETRY_STATUS,
    PermanentError,
    SdkAdapter,
    TransientError,
    import_sdk,
    sdk_error,
)

Outcome = Literal["ok", "retry", "error"]


@dataclass(frozen=True)
class RemoteBatch:
    """A batch as the provider reports it."""

    id: str
    status: str
    """The provider's own word (``validating``, ``in_progress``, ``finalizing``, ``completed``, ``expired``,
    ``cancelling``, ``cancelled``, ``failed``; ``in_progress``, ``canceling``, ``ended``)."""
    ended: bool
    """No further results will come: fetch them now."""
    failed: bool = False
    """The provider refused the whole batch (OpenAI ``failed``: the input file did not validate); no results."""
    done: int = 0
    """Requests finished so far, as far as the provider tells."""
    total: int = 0
    created_at: float = 0.0
    """Unix time."""
    error: str | None = None
    handle: Any = None
    """The SDK's batch object (what :meth:`BatchApi.results` needs)."""


@dataclass(frozen=True)
class Result:
    """The result of one request of a batch."""

    custom_id: str
    outcome: Outcome
    """``ok`` (a reply: ``body``), ``retry`` (expired, cancelled, a transient error: worth another batch) or
    ``error`` (the provider refused the request: an ``api_error`` verdict, as interactively)."""
    body: Any = None
    """The response body of an ``ok`` result, exactly as an interactive call returns it."""
    detail: str | None = None


class NoBatchApi(ConfigError):
    """The server has no batch API (an OpenAI-compatible server without ``/batches``): run without ``--batch``."""


class BatchApi(ABC):
    """One provider's batch API over its SDK client (see the module docstring)."""

    name: ClassVar[str]
    max_requests: ClassVar[int]
    """Requests per batch, the provider's documented limit."""
    max_bytes: ClassVar[int]
    """Size of a batch (input file or request body), the provider's documented limit."""
    uploads: ClassVar[bool] = False
    """The requests go into an input file uploaded before the create call (OpenAI), not into the call itself."""
    verify_by_custom_ids: ClassVar[bool] = False
    """A batch found after a lost create call is only a candidate until its results show our custom ids."""

    def __init__(self, adapter: SdkAdapter, *, timeout: float) -> None:
        self.adapter = adapter
        self.timeout = timeout
        self.sdk = import_sdk(adapter.sdk_name)

    @property
    def client(self) -> Any:
        return self.adapter.client

    @property
    def where(self) -> str:
        return self.adapter.base_url or f"the {self.adapter.provider} API"

    async def call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``await fn(*args, **kwargs)`` with the SDK's errors mapped to :class:`TransientError` /
        :class:`PermanentError` (``what`` names the call in their messages)."""
        try:
            return await fn(*args, **kwargs)
        except (self.sdk.APIError, ValueError) as exc:
            mapped = sdk_error(self.sdk, exc, self.adapter.provider)
            if mapped is exc:
                raise
            if isinstance(mapped, TransientError | PermanentError):
                mapped.args = (f"{what}: {mapped}",)
            raise mapped from exc

    def no_batch_api(self, exc: BaseException) -> NoBatchApi:
        return NoBatchApi(
            f"{self.where} has no batch API ({exc}); run without --batch (OpenAI-compatible servers such as vLLM "
            "and Ollama answer only interactive calls)"
        )

    async def check(self) -> None:
        """Fail fast, with :class:`NoBatchApi`, when the server has no batch endpoints (one cheap listing)."""
        try:
            page = await self.call("listing batches", self._list_one)
        except PermanentError as exc:
            if exc.status_code in (404, 405, 501):
                raise self.no_batch_api(exc) from None
            raise
        except TransientError as exc:
            if exc.kind == "bad_response":
                raise self.no_batch_api(exc) from None
            raise ProviderError(  # unreachable or silent: not a verdict on its endpoints
                f"{self.where} did not answer a batch listing ({exc}): check the server and --timeout, or run "
                "without --batch if it has no batch API",
                status_code=exc.status_code,
            ) from None
        if not _is_page(page):
            raise self.no_batch_api(ValueError("its batch listing is not a list of batches"))

    @abstractmethod
    async def _list_one(self) -> Any:
        """List at most one batch (the :meth:`check`)."""

    @abstractmethod
    def entry(self, custom_id: str, body: dict[str, Any]) -> bytes:
        """One request as sent (a JSONL line, or an element of the request list), for sizing and submitting."""

    async def upload(self, row: BatchRow, entries: list[bytes]) -> str | None:
        """Upload the input file of ``row``; its id (``None``: this API takes the requests with the create call)."""
        return None

    async def find_upload(self, row: BatchRow) -> str | None:
        """The input file of ``row`` if an earlier, interrupted run uploaded it."""
        return None

    @abstractmethod
    async def create(self, row: BatchRow, file_id: str | None, entries: list[bytes]) -> RemoteBatch:
        """Create the batch (never retried blindly: a lost reply is looked for with :meth:`find_created`)."""

    @abstractmethod
    async def find_created(self, row: BatchRow, known: set[str]) -> list[str]:
        """Provider batch ids that may be ``row`` (a create call whose reply was lost), excluding ``known``."""

    @abstractmethod
    async def retrieve(self, remote_id: str) -> RemoteBatch:
        """The batch's state now."""

    @abstractmethod
    async def results(self, remote: RemoteBatch) -> list[Result]:
        """Every result of an ended batch (requests without one are for the caller to retry)."""

    @abstractmethod
    async def cancel(self, remote_id: str) -> RemoteBatch:
        """Ask the provider to stop the batch (finished requests keep their results, and are billed)."""


def _is_page(page: Any) -> bool:
    data = getattr(page, "data", None)
    return isinstance(data, list)


def classify_http(status: int | None, message: str) -> tuple[Outcome, str]:
    """A failed request's outcome from its HTTP status: worth another batch (429, 5xx, timeouts) or not (4xx).

    >>> classify_http(500, "boom"), classify_http(400, "too long")
    (('retry', 'http_500: boom'), ('error', 'http_400: too long'))
    """
    retry = status is None or status in RETRY_STATUS or status >= 500
    return ("retry" if retry else "error"), f"http_{status}: {message}"


API_CLASSES: dict[str, str] = {
    "openai": "judgekit.judging.batch.openai_batches:OpenAIBatchApi",
    "anthropic": "judgekit.judging.batch.anthropic_batches:AnthropicBatchApi",
}
"""The batch API implementations, by the name a provider declares in ``Capabilities.batch``."""


def make_batch_api(kind: str, adapter: Any, *, timeout: float) -> BatchApi:
    """The batch API ``kind`` over ``adapter``'s SDK client."""
    import importlib

    if not isinstance(adapter, SdkAdapter):
        raise ConfigError("--batch needs a provider built on the openai or anthropic SDK (an SdkAdapter)")
    module, _, cls = API_CLASSES[kind].partition(":")
    api: BatchApi = getattr(importlib.import_module(module), cls)(adapter, timeout=timeout)
    return api
