"""The provider contract: a request in, a reply out, and the two kinds of failure the engine must tell apart.

Why so small: everything a judge run needs (pacing, retries, caching, parsing, confidence) is provider-neutral
and lives in the engine. An adapter only translates one :class:`ProviderRequest` into one SDK call and the
SDK's answer back into a :class:`ProviderReply`, so adding a provider is one short module.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from judgekit.errors import ConfigError, MissingKeyError


@dataclass(frozen=True)
class ProviderRequest:
    """One call to a model. Everything here can change the reply, so all of it goes into the cache key."""

    messages: tuple[dict[str, str], ...]
    """Chat messages (``role`` system|user|assistant, ``content``); the system message, if any, comes first."""
    max_tokens: int
    """Upper bound on the reply length; kept tight (a verdict is short) so a runaway reply costs little."""
    temperature: float | None = None
    """Sampling temperature (``None``: provider default)."""
    schema: dict[str, Any] | None = None
    """JSON Schema the reply must follow (structured output); ``None`` for the text fallback."""
    schema_name: str = "verdict"
    """Name of the schema / forced tool."""
    top_logprobs: int = 0
    """Number of alternatives per token to return (0: no logprobs)."""
    seed: int | None = None
    """Provider-side sampling seed, where supported."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Further output-affecting parameters passed through to the SDK (``top_p``, ``stop`` ...)."""

    def key_fields(self) -> dict[str, Any]:
        """The fields hashed into the cache key (all of them: transport settings are not part of a request).

        Built by hand rather than with ``dataclasses.asdict``, which deep-copies the messages and schema (a
        measurable share of the client CPU per call)."""
        return {
            "messages": self.messages,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "schema": self.schema,
            "schema_name": self.schema_name,
            "top_logprobs": self.top_logprobs,
            "seed": self.seed,
            "extra": self.extra,
        }


@dataclass(frozen=True)
class TokenLogprob:
    """One generated token with its log-probability and the top alternatives at that position."""

    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class ProviderReply:
    """What came back from one successful HTTP exchange (a refusal or an unreadable reply is still a reply)."""

    text: str
    """The reply text; for structured output the JSON text (tool input serialised for Anthropic)."""
    structured: dict[str, Any] | None = None
    """The parsed structured object when the provider returned one natively (tool use), else ``None``."""
    refusal: str | None = None
    """The provider's refusal message when the model declined."""
    finish_reason: str | None = None
    """``stop``, ``length``, ``tool_use``, ``refusal`` ... as the provider reports it."""
    input_tokens: int = 0
    output_tokens: int = 0
    logprobs: tuple[TokenLogprob, ...] = ()
    """Per-token logprobs when requested and supported."""

    def to_json_dict(self) -> dict[str, Any]:
        """Serialisable form stored in the cache."""
        d: dict[str, Any] = {
            "text": self.text,
            "structured": self.structured,
            "refusal": self.refusal,
            "finish_reason": self.finish_reason,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
        }
        d["logprobs"] = [[t.token, t.logprob, [list(x) for x in t.top]] for t in self.logprobs]
        return d

    @classmethod
    def from_json_dict(cls, d: dict[str, Any]) -> ProviderReply:
        """Inverse of :meth:`to_json_dict`."""
        lps = tuple(TokenLogprob(t, lp, tuple((a, b) for a, b in top)) for t, lp, top in d.get("logprobs", []))
        return cls(
            text=d["text"],
            structured=d.get("structured"),
            refusal=d.get("refusal"),
            finish_reason=d.get("finish_reason"),
            input_tokens=d.get("input_tokens", 0),
            output_tokens=d.get("output_tokens", 0),
            logprobs=lps,
        )


class TransientError(Exception):
    """A failure worth retrying (429, 5xx, 529 overloaded, timeout, connection reset).

    ``retry_after`` is the server's requested wait in seconds (``retry-after`` / ``retry-after-ms``), if any.
    """

    def __init__(
        self, kind: str, message: str, *, status_code: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status_code = status_code
        self.retry_after = retry_after

    @property
    def rate_limited(self) -> bool:
        """True for 429: the signal to slow down, not only to wait."""
        return self.status_code == 429


FATAL_STATUS = frozenset({401, 403, 404})
"""Bad key, no access, unknown model: every further call would fail the same way, so the run stops at once."""


class PermanentError(Exception):
    """A failure retrying cannot fix (400 bad request, 401 bad key, 404 unknown model).

    ``fatal``: no call of the run can succeed (a rejected key, no access, an unknown model, an exhausted quota),
    so the run stops at the first one; by default for HTTP 401, 403 and 404."""

    def __init__(
        self, message: str, *, status_code: int | None = None, body: str | None = None, fatal: bool | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body
        self.fatal = status_code in FATAL_STATUS if fatal is None else fatal


class ModelAdapter(ABC):
    """One model behind one provider. Implements a single async method.

    What the provider can do (structured output, logprobs, seed) is declared once, in its registration
    (:func:`~judgekit.judging.providers.registry.register_provider`), and checked by the engine before the first
    call (asking an Anthropic model for logprobs is a :class:`~judgekit.errors.ConfigError`, not a surprise after
    500 paid calls).
    """

    provider: str
    model: str
    base_url: str | None
    key_env: str | None = None
    """The environment variable the key came from (named in the error when the provider rejects the key)."""

    @abstractmethod
    async def complete(self, request: ProviderRequest) -> ProviderReply:
        """Send one request; raise :class:`TransientError` or :class:`PermanentError` on failure."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook, most adapters hold nothing to close
        """Release the SDK client's connections."""


class SdkAdapter(ModelAdapter):
    """An adapter over an official SDK client, built lazily: a run served entirely from the cache never imports
    the SDK or opens a connection. A subclass names its SDK, client class and environment variables; a ready
    ``client`` may be passed instead (tests, custom setups)."""

    sdk_name: ClassVar[str]
    """The SDK's module (``openai``, ``anthropic``)."""
    client_class: ClassVar[str]
    """Its async client class (``AsyncOpenAI``, ``AsyncAnthropic``)."""
    default_provider: ClassVar[str]
    env_key: ClassVar[str]
    env_base_url: ClassVar[str]
    default_base_url: ClassVar[str | None] = None
    """The server when neither ``base_url`` nor :attr:`env_base_url` names one (``None``: the SDK's default)."""
    _client: Any = None
    _build: Any = None

    def __init__(
        self,
        model: str,
        *,
        provider: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        client: Any = None,
        structured: bool = True,
        max_connections: int | None = None,
    ) -> None:
        self.provider = provider or self.default_provider
        self.model = model
        self.base_url = base_url or os.environ.get(self.env_base_url) or self.default_base_url
        self.structured = structured
        self._client = client
        self.key_env = None if api_key else self.env_key
        if client is None:
            kwargs = self.client_kwargs(api_key)

            def build() -> Any:
                sdk = import_sdk(self.sdk_name)
                return getattr(sdk, self.client_class)(
                    **kwargs,
                    timeout=timeout,
                    max_retries=0,  # the engine retries, so that backoff and the pacer see every attempt
                    http_client=pooled_http_client(sdk, max_connections),
                )

            self._build = build

    def client_kwargs(self, api_key: str | None) -> dict[str, Any]:
        """The SDK client's credentials and server, checked when the adapter is made (so missing credentials fail
        before any work starts). The default: a key from ``api_key`` or :attr:`env_key`, and :attr:`base_url`;
        cloud providers override it (Azure's endpoint and API version, AWS or Google credentials)."""
        return {"api_key": self._api_key(api_key or os.environ.get(self.env_key)), "base_url": self.base_url}

    def body(self, request: ProviderRequest) -> dict[str, Any]:
        """The JSON body of ``request`` as this provider's API takes it (a batch file carries the same body)."""
        raise NotImplementedError

    def read_reply(self, data: Any) -> ProviderReply:
        """The reply in a response body as the server sent it (an interactive reply or a batch result)."""
        raise NotImplementedError

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        """POST ``body`` to ``path`` with the SDK client's ``post`` and return the JSON reply as the server sent it.

        Why not the typed calls (``chat.completions.create``, ``messages.create``): they transform every parameter
        and build pydantic models of the reply, CPU that caps a judging process (benchmarks/bench_judge.py). Auth,
        headers (``anthropic-version``), base URL and timeouts are the SDK's either way; its errors are mapped to
        :class:`TransientError` / :class:`PermanentError` here, once for every SDK adapter."""
        sdk = import_sdk(self.sdk_name)
        try:
            return await self.client.post(path, cast_to=dict[str, Any], body=body)
        except (sdk.APIError, ValueError) as exc:
            mapped = sdk_error(sdk, exc, self.provider)
            if mapped is exc:
                raise
            raise mapped from exc

    def _api_key(self, key: str | None) -> str:
        """The key to use; a missing one fails here, when the adapter is made, before any work starts."""
        if not key:
            raise MissingKeyError(self.env_key, self.provider)
        return key

    @property
    def client(self) -> Any:
        """The SDK client, built (and the SDK imported) at the first call. The key is checked when the adapter is
        built, not here, so a missing key fails before any work starts."""
        if self._client is None:
            self._client = self._build()
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()


RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
"""HTTP statuses worth retrying (with any other 5xx): timeouts, conflicts, rate limits, server errors, overload."""


def import_sdk(name: str) -> Any:
    """Import a provider SDK at the first call, with an error that says what to install."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:  # pragma: no cover - both SDKs are dependencies
        raise ConfigError(f"the {name} provider needs the '{name}' package: pip install {name}") from exc


def sdk_error(sdk: Any, exc: BaseException, provider: str) -> BaseException:
    """Map an exception of the ``openai`` or ``anthropic`` SDK (they share one error hierarchy) to the engine's
    :class:`TransientError` (retried) or :class:`PermanentError`; anything else is returned unchanged."""
    if isinstance(exc, sdk.APIStatusError):
        body = _body_text(exc)
        if exc.status_code == 429 and "insufficient_quota" in body:  # OpenAI: billing quota used up, not a pace
            return PermanentError(
                f"{provider} refused the request: the account's quota is used up (HTTP 429 insufficient_quota): "
                f"{body[:300]}",
                status_code=429,
                body=body,
                fatal=True,
            )
        if exc.status_code in RETRY_STATUS or exc.status_code >= 500:
            return TransientError(
                f"http_{exc.status_code}",
                f"{exc.status_code}: {body[:200]}",
                status_code=exc.status_code,
                retry_after=parse_retry_after(exc.response.headers),
            )
        return PermanentError(f"{provider} refused the request: {body[:300]}", status_code=exc.status_code, body=body)
    if isinstance(exc, sdk.APITimeoutError) and not _connection_lost(exc):
        return TransientError("timeout", "request timed out")
    if isinstance(exc, sdk.APITimeoutError):
        return TransientError("connection", "connection lost before the reply (reset or closed by the server)")
    if isinstance(exc, sdk.APIConnectionError):
        return TransientError("connection", f"connection error: {exc}")
    if isinstance(exc, sdk.APIResponseValidationError | ValueError):  # ValueError: a body that is not JSON
        return TransientError("bad_response", f"unreadable response: {exc}")
    return exc


def _connection_lost(exc: BaseException) -> bool:
    """Whether a "timeout" is really a lost connection: the aiohttp transport reports a connection the server reset
    or closed as a connect timeout, so look at what was raised underneath."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        name = type(cause).__name__
        if isinstance(cause, ConnectionError) or name in ("ServerDisconnectedError", "ClientOSError"):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _body_text(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if body is None:
        try:
            return str(exc.response.text)
        except Exception:  # pragma: no cover - defensive, the body is only for the message
            return str(exc)
    return body if isinstance(body, str) else json.dumps(body, default=str)


def parse_retry_after(headers: Any) -> float | None:
    """Seconds to wait from ``retry-after-ms`` (preferred, finer) or ``retry-after`` (seconds); ``None`` if absent
    or unreadable (an HTTP date is ignored: backoff applies)."""
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except (TypeError, ValueError):
            continue
    return None


SDK_MAX_KEEPALIVE = 100
"""Idle connections the openai / anthropic SDKs keep by default (``max_keepalive_connections``)."""
SDK_MAX_CONNECTIONS = 1000
"""Connections the SDKs open at most by default."""


def pool_limits(max_connections: int | None) -> tuple[int, int]:
    """``(max_connections, max_keepalive_connections)`` of the pool for a run with ``max_connections`` calls in
    flight: never below the SDK defaults, and enough keep-alive connections that every worker keeps its own.

    >>> pool_limits(64)
    (1000, 100)
    >>> pool_limits(256)
    (1000, 256)
    """
    n = max_connections or 0
    return max(SDK_MAX_CONNECTIONS, n), max(SDK_MAX_KEEPALIVE, n)


HTTP_TRANSPORT_ENV = "JUDGEKIT_HTTP_TRANSPORT"
"""Environment variable choosing the SDKs' HTTP transport: ``aiohttp`` (default when installed) or ``httpx``."""


def http_transport() -> str:
    """The transport the SDK clients use: ``aiohttp`` unless ``JUDGEKIT_HTTP_TRANSPORT=httpx`` or aiohttp is missing.

    Why aiohttp: both SDKs document it (``pip install openai[aiohttp]``, ``http_client=DefaultAioHttpClient()``) "for
    improved concurrency performance"; on a 2-core machine it costs about 30% less client CPU per call than the
    default httpx2 transport (benchmarks/bench_judge.py prints both), which is what caps throughput at high
    concurrency. The SDK, its auth, timeouts and error types are the same either way.
    """
    choice = os.environ.get(HTTP_TRANSPORT_ENV, "aiohttp").strip().lower() or "aiohttp"
    if choice not in ("aiohttp", "httpx"):
        raise ConfigError(f"{HTTP_TRANSPORT_ENV} must be 'aiohttp' or 'httpx', not {choice!r}")
    if choice == "aiohttp" and importlib.util.find_spec("aiohttp") is None:  # pragma: no cover - a dependency
        return "httpx"
    return choice


def pooled_http_client(sdk: Any, max_connections: int | None) -> Any:
    """The SDK's own default async HTTP client (its timeouts, redirects) on the chosen :func:`http_transport`, with a
    pool sized for ``max_connections`` calls in flight.

    Why a sized pool: the SDKs keep at most 100 idle keep-alive connections, so at a concurrency above 100 every call
    beyond the 100th would open a fresh TCP (and TLS) connection and drop it afterwards. One client, built once per
    run, holds the pool for all the run's calls."""
    import httpx2

    total, keepalive = pool_limits(max_connections)
    limits = httpx2.Limits(max_connections=total, max_keepalive_connections=keepalive)
    if http_transport() == "aiohttp":
        return sdk.DefaultAioHttpClient(limits=limits)
    return sdk.DefaultAsyncHttpxClient(limits=limits)
